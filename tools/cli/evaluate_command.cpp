// `fieldseg evaluate --pred PRED --truth TRUTH [--partial] [--aoi POLY] [--per-field OUT]
// [--json]`: field IoU, object P/R/F1, extent and boundary scores of predicted field polygons
// against reference polygons (definitions in include/fieldseg/eval.hpp and ../shared/DOMAIN.md
// section 2).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include "aoi.hpp"
#include "command.hpp"
#include "config_file.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/eval.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/weak_labels.hpp"
#include "guards.hpp"
#include "log.hpp"

namespace fieldseg::cli {
namespace {

struct EvaluateArgs {
  std::string config;  ///< --config FILE.json (config_file.hpp)
  std::string pred, truth, aoi, perField, predLayer, truthLayer, crs, truthSplit;
  bool partial = false, json = false, jsonFields = false, overwrite = false, noBoundary = false;
  double matchIou = 0.5, boundaryTolM = 5.0, labelBufferM = 5.0, fpMinFraction = 0.5;
  int threads = 0;
};

constexpr const char* kRules =
    R"(Definitions (all in one metric CRS: --crs, else the UTM zone of the truth's centre):
  field IoU    for each scored truth field, the max IoU over predicted fields that intersect it
               (0 if none); median, mean, fraction > 0.5 and > 0.8 over scored fields.
  objects      one-to-one matching of (truth, prediction) pairs with IoU > --match-iou, greedy by
               decreasing IoU; TP/FP/FN summed over the file (micro); P = TP/(TP+FP), R = TP/(TP+FN).
               Also: panoptic quality PQ = sum of matched IoUs / (TP + FP/2 + FN/2); F1 averaged
               over IoU thresholds 0.50, 0.55 ... 0.95; boundary error of each matched pair =
               area(truth XOR prediction) / mean perimeter (m), mean and median over the pairs.
  extent       IoU/F1/precision/recall from exact polygon areas (no rasterisation) of the union of
               predictions vs the union of truth, inside the evaluation region R; MCC when R is bounded.
  boundary     boundary = union of the polygons' rings (shared edges once); precision = share of the
               predicted boundary inside R lying within --boundary-tol metres of the truth boundary
               (exact Euclidean distance, closed); recall the other way round.
Evaluation region R: everywhere; the --aoi polygons when given (truth fields scored only when
their point-on-surface lies in the AOI).
--partial (weak labels: not every field is outlined): R = labelled area L = union of the truth
  polygons buffered by --label-buffer metres (and cut to the AOI). Every truth field is scored.
  An unmatched prediction counts as a false positive only when at least --fp-min-fraction of its
  area lies inside L; other unmatched predictions are reported as "not counted". Extent and
  boundary scores only use what lies inside L.
The same FP rule applies with --aoi (R = AOI) without --partial.
Ids: a feature's integer 'id' attribute when it has one, else its 1-based polygon order.)";

FieldSet readWithIds(const std::string& path, const std::string& layer, bool allowEmpty,
                     const Crs& fallbackCrs, const char* what, int threads) {
  VectorReadReport rep;
  FieldSet s;
  try {
    s = readFields(path, &rep, layer, threads);
  } catch (const DataError& e) {
    // An empty prediction is a legitimate (if poor) result and scores 0; readFields reports it as
    // "no polygons", which is the one DataError we accept here.
    if (!allowEmpty || std::string(e.what()).rfind("io: no polygons in", 0) != 0) throw;
    s.crs = fallbackCrs;
    logLine(std::string("evaluate: ") + what + " '" + path +
            "' has no polygons: scoring it as empty");
    return s;
  }
  for (auto& f : s.fields) {
    auto it = f.attrs.find("id");
    if (it != f.attrs.end()) {
      if (const auto* v = std::get_if<std::int64_t>(&it->second)) f.id = *v;
    }
  }
  logLine(std::string("evaluate: ") + what + " '" + path + "': " + std::to_string(rep.polygonsOut) +
              " polygons from " + std::to_string(rep.featuresRead) + " features" +
              (rep.repaired ? ", " + std::to_string(rep.repaired) + " repaired" : "") +
              (rep.skipped ? ", " + std::to_string(rep.skipped) + " skipped" : ""),
          true);
  return s;
}

void run(const EvaluateArgs& a) {
  refuseSamePaths("evaluate", {{"--per-field", a.perField}},
                  {{"--pred", a.pred}, {"--truth", a.truth}, {"--aoi", a.aoi}});
  auto t0 = std::chrono::steady_clock::now();
  if (!a.perField.empty() && !a.overwrite) {
    if (std::FILE* f = std::fopen(a.perField.c_str(), "r")) {
      std::fclose(f);
      throw UsageError("evaluate: --per-field '" + a.perField +
                       "' exists. Pass --overwrite or choose another path.");
    }
  }
  if (!a.truthSplit.empty() && a.truthSplit != "west" && a.truthSplit != "east") {
    throw UsageError("evaluate: --truth-split '" + a.truthSplit + "' must be west or east.");
  }
  const int threads = cappedThreads(a.threads, "evaluate");
  FieldSet truth = readWithIds(a.truth, a.truthLayer, false, Crs(), "truth", threads);
  if (!a.truthSplit.empty()) {
    // The same split `fieldseg labels --split` trains on, so held-out halves match exactly.
    truth = splitFields(truth, a.truthSplit);
    logLine("evaluate: --truth-split " + a.truthSplit + " keeps " +
            std::to_string(truth.fields.size()) + " truth fields");
  }
  FieldSet pred = readWithIds(a.pred, a.predLayer, true, truth.crs, "prediction", threads);
  EvalOptions o;
  o.partial = a.partial;
  o.matchIou = a.matchIou;
  o.boundaryToleranceM = a.boundaryTolM;
  o.labelBufferM = a.labelBufferM;
  o.partialFpMinFraction = a.fpMinFraction;
  o.boundaryMetrics = !a.noBoundary;
  o.threads = threads;
  if (!a.crs.empty()) o.metricCrs = Crs::fromUserInput(a.crs);
  if (!a.aoi.empty()) o.aoi = readAoi(a.aoi, "evaluate");
  const double readS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // One bar over the long stages (extent areas weigh most: per-tile unions and their overlap).
  std::optional<Progress> bar;
  const std::vector<Progress::Stage> stages =
      o.boundaryMetrics ? std::vector<Progress::Stage>{{"field IoU", 0.2},
                                                       {"extent areas", 0.5},
                                                       {"boundaries", 0.3}}
                        : std::vector<Progress::Stage>{{"field IoU", 0.3}, {"extent areas", 0.7}};
  o.progress = [&](const std::string& stage, long long done, long long total) {
    if (!bar) bar.emplace("evaluate", stages, "items");
    bar->update(stage, done, total);
  };
  EvalResult r = evaluateFields(pred, truth, o);
  if (bar) bar->finish();
  if (!a.perField.empty()) {
    VectorWriteOptions w;
    w.overwrite = a.overwrite;
    w.layerName = "field_scores";
    writeFields(perFieldLayer(truth, r), a.perField, w);
    logLine("evaluate: per-field scores written to '" + a.perField + "'");
  }
  std::string text = a.json ? evalResultJson(r, a.jsonFields) + "\n" : evalResultTable(r);
  std::fwrite(text.data(), 1, text.size(), stdout);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char buf[160];
  std::snprintf(buf, sizeof buf, "evaluate: %d truth / %d predicted fields in %.2f s",
                r.truthFields, r.predFields, s);
  logLine(buf);
  auto seconds = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f s", v);
    return std::string(b);
  };
  std::string timings = "evaluate: stages: read " + seconds(readS);
  for (const auto& [stage, sec] : r.stageSeconds) timings += "; " + stage + " " + seconds(sec);
  const unsigned used = o.threads > 0 ? static_cast<unsigned>(o.threads)
                                      : std::max(1u, std::thread::hardware_concurrency());
  logLine(timings + " (" + std::to_string(used) + " threads)", true);
}

const Registrar kRegistrar(
    "evaluate", "Score predicted field polygons against reference polygons (field IoU, P/R/F1)", 60,
    [](CLI::App& sub) {
      auto a = std::make_shared<EvaluateArgs>();
      addFlagConfigOption(sub, a->config);
      sub.add_option("--pred", a->pred, "Predicted fields: any OGR vector source")->required();
      sub.add_option("--truth", a->truth, "Reference fields: any OGR vector source")->required();
      sub.add_option("--pred-layer", a->predLayer, "Layer of --pred (default: all layers)");
      sub.add_option("--truth-layer", a->truthLayer, "Layer of --truth (default: all layers)");
      sub.add_option("--truth-split", a->truthSplit,
                     "Score only the west or east half of the truth fields (the split of "
                     "`fieldseg labels --split`: by centroid longitude, west = first floor(n/2))");
      sub.add_flag("--partial", a->partial,
                   "Partial labels: only labelled area counts (see below)");
      sub.add_option("--aoi", a->aoi,
                     "Area of interest polygons (any OGR source) or a lon/lat box "
                     "minlon,minlat,maxlon,maxlat");
      sub.add_option("--per-field", a->perField,
                     "Write each truth field with iou, best_pred_id, matched, matched_pred_id "
                     "(.gpkg, .geojson, .fgb)");
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing --per-field file");
      sub.add_flag("--json", a->json, "JSON on stdout instead of a table");
      sub.add_flag("--json-fields", a->jsonFields, "With --json: add the per-field scores");
      sub.add_option("--match-iou", a->matchIou, "IoU a one-to-one match must exceed")
          ->default_val(0.5)
          ->check(CLI::Range(0.0, 0.999999));
      sub.add_option("--boundary-tol", a->boundaryTolM, "Boundary F1 tolerance, metres")
          ->default_val(5.0)
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--label-buffer", a->labelBufferM,
                     "--partial: labelled area = truth buffered by this many metres")
          ->default_val(5.0)
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--fp-min-fraction", a->fpMinFraction,
                     "Share of an unmatched prediction inside the labelled area / AOI that makes "
                     "it a false positive")
          ->default_val(0.5)
          ->check(CLI::Range(0.0, 1.0));
      sub.add_option("--crs", a->crs, "Metric CRS to compare in (default: UTM of the truth)");
      sub.add_flag("--no-boundary", a->noBoundary, "Skip the boundary scores (faster)");
      sub.add_option("--threads", a->threads,
                     "Worker threads (0 = all cores); the scores are the same for any count");
      sub.footer(kRules);
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
