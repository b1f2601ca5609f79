// `fieldseg train`: train (or fine-tune with --init) the segmentation network from chip manifests,
// or score a model on chips with --evaluate. The work is in src/model
// (include/fieldseg/trainer.hpp).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "guards.hpp"
#include "log.hpp"
#include "model_names.hpp"

#ifdef FIELDSEG_WITH_TORCH
#include "fieldseg/model.hpp"
#include "fieldseg/trainer.hpp"
#endif

namespace fieldseg::cli {
namespace {

#ifdef FIELDSEG_WITH_TORCH
// The command line as typed, for the model card ("exact commands"). argv[0] becomes "fieldseg".
std::string commandLine() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string raw = ss.str(), out, arg;
  bool first = true;
  auto quote = [](const std::string& a) {
    if (!a.empty() && a.find_first_of(" \t\"'$\\*?;&|<>()") == std::string::npos) return a;
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\0') {
      arg += raw[i];
      continue;
    }
    out += (first ? std::string("fieldseg") : " " + quote(arg));
    first = false;
    arg.clear();
  }
  return out;
}
#endif

struct TrainArgs {
  std::string config, init, out, device = "cpu", evaluate;
  std::vector<std::string> manifests;
  int threads = 0;
  double threshold = 0.5;
  bool resume = false, overwrite = false, recordInCard = false;
};

void run(const TrainArgs& a) {
#ifndef FIELDSEG_WITH_TORCH
  (void)a;
  throw UsageError(
      "train: needs LibTorch, and no `fieldseg-torch` is installed beside this fieldseg. "
      "Rebuild with -DFIELDSEG_WITH_TORCH=ON (it builds both).");
#else
  {
    std::vector<NamedPath> inputs{{"--config", a.config}, {"--init", a.init}};
    for (const auto& m : a.manifests) inputs.emplace_back("--manifest", m);
    refuseSamePaths("train", {{"--out", a.out}}, inputs);
  }
  const int threads = cappedThreads(a.threads, "train");
  if (!a.evaluate.empty()) {
    std::vector<std::string> manifests = a.manifests;
    if (manifests.empty() && !a.config.empty()) {
      TrainConfig cfg = loadTrainConfig(a.config);
      manifests = cfg.valManifests;
    }
    if (manifests.empty())
      throw UsageError(
          "train: --evaluate needs chips. Pass --manifest DIR/manifest.jsonl (repeatable).");
    EvalSummary s = evaluateModel(a.evaluate, manifests, a.threshold, a.device, threads);
    nlohmann::json j = {{"model", a.evaluate},
                        {"manifests", manifests},
                        {"chips", s.chips},
                        {"threshold", s.threshold},
                        {"f1", s.scores.f1()},
                        {"mcc", s.scores.mcc()},
                        {"iou", s.scores.iou()},
                        {"precision", s.scores.precision()},
                        {"recall", s.scores.recall()},
                        {"loss", s.loss},
                        {"tp", s.scores.tp},
                        {"fp", s.scores.fp},
                        {"fn", s.scores.fn},
                        {"tn", s.scores.tn},
                        {"command", commandLine()}};
    std::printf("%s\n", j.dump(2).c_str());
    if (a.recordInCard) {
      // Appends this evaluation (scores + exact command) to the model's card, replacing an earlier
      // entry for the same manifests and threshold.
      nlohmann::json card = nlohmann::json::parse(readModelCard(a.evaluate));
      nlohmann::json entries = nlohmann::json::array();
      if (card.contains("evaluation") && card["evaluation"].is_array())
        for (const auto& e : card["evaluation"])
          if (!(e.value("manifests", nlohmann::json()) == j["manifests"] &&
                e.value("threshold", -1.0) == j["threshold"].get<double>()))
            entries.push_back(e);
      nlohmann::json entry = j;
      entry.erase("model");
      entry["metric"] = "masked pixel scores of the extent head";
      entries.push_back(entry);
      card["evaluation"] = entries;
      writeModelCard(a.evaluate, a.evaluate, card.dump());
      logLine("train: recorded the evaluation in the card of '" + a.evaluate + "'");
    }
    return;
  }
  if (a.config.empty()) throw UsageError("train: --config is required. Pass configs/NAME.json.");
  if (a.out.empty()) throw UsageError("train: --out is required. Pass the model file to write.");
  checkOutputFolder("train", "--out", a.out);
  if (std::filesystem::exists(a.out) && !a.resume && !a.overwrite)
    throw UsageError("train: output '" + a.out +
                     "' exists. Pass --overwrite to replace it or --resume to continue.");
  TrainRequest req;
  req.config = loadTrainConfig(a.config);
  req.configPath = a.config;
  req.initModel = a.init;
  req.outPath = a.out;
  req.device = a.device;
  req.threads = threads;
  req.resume = a.resume;
  req.commandLine = commandLine();
  req.log = [](const std::string& s) { logLine(s); };
  TrainSummary s = trainModel(req);
  char buf[256];
  if (s.bestEpoch > 0)
    std::snprintf(buf, sizeof buf, "train: best epoch %d: val F1 %.3f MCC %.3f; %.0f s",
                  s.bestEpoch, s.best.f1(), s.best.mcc(), s.wallTimeS);
  else if (s.bestEpoch == 0)
    std::snprintf(buf, sizeof buf,
                  "train: no epoch beat the initial model on the validation chips (val F1 %.3f "
                  "MCC %.3f): wrote its weights unchanged; %.0f s",
                  s.best.f1(), s.best.mcc(), s.wallTimeS);
  else
    std::snprintf(buf, sizeof buf, "train: done (no validation chips); %.0f s", s.wallTimeS);
  logLine(buf);
#endif
}

Registrar reg("train", "Train or fine-tune the segmentation network from chip manifests", 60,
              [](CLI::App& sub) {
                auto a = std::make_shared<TrainArgs>();
                sub.add_option("--config", a->config, "Training config (configs/NAME.json)");
                sub.add_option("--init", a->init,
                               "Start from this model (transfer; input bands may differ)");
                sub.add_option("--out", a->out,
                               "Model file to write (<out>.ckpt and <out>.curve.csv go beside it)");
                sub.add_option("--device", a->device, "cpu (default), cuda or cuda:N");
                sub.add_option("--threads", a->threads, "Intra-op threads (0 = all cores)");
                sub.add_flag("--resume", a->resume, "Continue from <out>.ckpt when it exists");
                sub.add_flag("--overwrite", a->overwrite, "Replace an existing --out");
                sub.add_option("--evaluate", a->evaluate,
                               "Instead of training: score this model on --manifest chips "
                               "(masked pixel F1/MCC of the extent head, JSON on stdout)");
                sub.add_option(
                    "--manifest", a->manifests,
                    "Chip manifest(s) for --evaluate (default: the config's val_manifests)");
                sub.add_flag("--record-in-card", a->recordInCard,
                             "With --evaluate: also write the scores and command into the model's "
                             "card (key \"evaluation\")");
                sub.add_option("--threshold", a->threshold, "Extent threshold for --evaluate")
                    ->check(CLI::Range(0.0, 1.0));
                sub.callback([a] {
                  a->init = resolveModel(a->init, "--init");
                  a->evaluate = resolveModel(a->evaluate, "--evaluate");
                  run(*a);
                });
              });

}  // namespace
}  // namespace fieldseg::cli
