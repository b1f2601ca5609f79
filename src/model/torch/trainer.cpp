// `fieldseg train`: chips from manifests -> augmented crops -> masked Tanimoto loss -> Adam, with
// per-epoch validation, best-checkpoint keeping, resumable checkpoints and a CSV learning curve.
// The data lives in train_data.cpp, the pieces of a run in train_steps.cpp; this file strings them
// together.
#include <ATen/autocast_mode.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "fieldseg/error.hpp"
#include "fieldseg/version.hpp"
#include "net.hpp"
#include "train_data.hpp"
#include "train_steps.hpp"

namespace fieldseg {
namespace model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using torch::indexing::Slice;
using Log = std::function<void(const std::string&)>;

json buildCard(const TrainRequest& req, const TrainData& d, const json& initInfo,
               const TrainState& s, int steps, double wall, int epochsDone) {
  const TrainConfig& cfg = req.config;
  json configJson = json::parse(cfg.configText);
  std::vector<std::string> commands = cfg.dataCommands;
  commands.push_back(req.commandLine);
  json card = {
      {"name", cfg.name},
      {"description", cfg.description},
      {"credits", configJson.value("credits", std::string())},
      {"fieldseg_version", kVersion},
      {"created_utc", utcNow()},
      {"architecture", architectureJson(cfg.network)},
      {"input_bands", cfg.network.inputBands},
      {"normalisation", "scene_p2_p98"},
      {"normalisation_rule", "clamp((v - p2[b]) / max(p98[b] - p2[b], 1e-6), -1, 2); invalid -> 0"},
      {"gsd_range_m", cfg.gsdRangeM.size() == 2 ? json(cfg.gsdRangeM)
                                                : json::array({std::round(d.gsdMin * 100) / 100,
                                                               std::round(d.gsdMax * 100) / 100})},
      {"thresholds",
       {{"t_ext", cfg.thresholds.tExt},
        {"t_bound", cfg.thresholds.tBound},
        {"min_area_m2", cfg.thresholds.minAreaM2}}},
      {"training",
       {{"config_path", req.configPath},
        {"config", configJson},
        {"commands", commands},
        {"init_model", initInfo},
        {"train_manifests", cfg.trainManifests},
        {"val_manifests", cfg.valManifests},
        {"train_chips", d.train.size()},
        {"val_chips", d.val.size()},
        {"train_source_images", distinctSources(d.train)},
        {"val_source_images", distinctSources(d.val)},
        {"loss", "masked Tanimoto with complement, mean over extent/boundary/distance"},
        {"optimizer", "adam"},
        {"seed", cfg.seed},
        {"epochs", epochsDone},
        {"steps_per_epoch", steps},
        {"device", req.device},
        {"precision", cfg.precision},
        {"threads", at::get_num_threads()},
        {"wall_time_s", std::round(wall)}}},
      {"validation", nullptr}};
  if (!d.val.empty() && s.bestEpoch >= 0) {
    json v = scoresJson(s.bestScores);
    v["metric"] = "masked pixel scores of the extent head on the validation chips";
    v["threshold"] = cfg.valThreshold;
    v["best_epoch"] = s.bestEpoch;
    v["loss"] = s.bestValLoss;
    v["chips"] = d.val.size();
    card["validation"] = v;
  }
  return card;
}

// sigmoid(net(x)) in fp32; with `bf16`, the network runs under CPU autocast (bf16 convolutions).
torch::Tensor forwardProb(ResUNet& net, const torch::Tensor& x, bool bf16) {
  if (!bf16) return torch::sigmoid(net->forward(x));
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  torch::Tensor logits;
  try {
    logits = net->forward(x);
  } catch (...) {
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    throw;
  }
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  return torch::sigmoid(logits.to(torch::kFloat32));
}

struct EpochResult {
  double meanLoss = 0, lr = 0;
};

// One epoch of `steps` optimiser steps on batches drawn (seeded by the epoch) from `train`.
EpochResult trainEpoch(ResUNet& net, torch::optim::Adam& optim, const TrainConfig& cfg,
                       const std::vector<Chip>& train, int epoch, int steps, torch::Device device,
                       const Log& log) {
  const double e0 = nowSeconds();
  const long long totalSteps = static_cast<long long>(steps) * cfg.epochs;
  std::mt19937_64 rng(static_cast<uint64_t>(cfg.seed) * 1000003ull + static_cast<uint64_t>(epoch));
  std::vector<size_t> order(train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  size_t cursor = 0;
  net->train();
  if (cfg.freezeBatchnorm) freezeBatchnorm(net);
  double lossSum = 0, lr = cfg.learningRate;
  for (int s = 0; s < steps; ++s) {
    lr = learningRate(cfg, static_cast<long long>(epoch) * steps + s, totalSteps, epoch);
    for (auto& g : optim.param_groups())
      static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    std::vector<torch::Tensor> xs, ys;
    for (int b = 0; b < cfg.batchSize; ++b) {
      if (cursor == order.size()) {
        std::shuffle(order.begin(), order.end(), rng);
        cursor = 0;
      }
      Sample smp = augment(train[order[cursor++]], cfg, rng);
      xs.push_back(smp.image);
      ys.push_back(smp.label);
    }
    torch::Tensor x = torch::stack(xs).to(device), y = torch::stack(ys).to(device);
    optim.zero_grad();
    torch::Tensor prob = forwardProb(net, x, cfg.precision == "bf16" && device.is_cpu());
    torch::Tensor loss =
        tanimotoLoss(prob, y.index({Slice(), Slice(0, 3)}), y.index({Slice(), Slice(3, 4)}));
    loss.backward();
    optim.step();
    lossSum += loss.item<double>();
    if ((s + 1) % 10 == 0 || s + 1 == steps)
      log("train: epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs) +
          " step " + std::to_string(s + 1) + "/" + std::to_string(steps) + " loss " +
          fmt("%.4f", lossSum / (s + 1)) + " lr " + fmt("%.2e", lr) + " " +
          fmt("%.2f", (nowSeconds() - e0) / (s + 1)) + " s/step");
  }
  return {lossSum / steps, lr};
}

// Validates after an epoch and keeps the network as the best one when it beats the best so far
// (validation.select_by). Returns whether it did.
bool keepIfBest(ResUNet& net, const TrainConfig& cfg, const std::vector<Chip>& val,
                const ValResult& vr, int epochNumber, torch::Device device, TrainState& s) {
  const double mcc = vr.scores.mcc();
  const bool improved =
      val.empty() || (cfg.valSelectBy == "loss"
                          ? vr.loss < s.bestValLoss
                          : mcc > s.bestMcc || (mcc == s.bestMcc && vr.loss < s.bestValLoss));
  if (!improved) return false;
  s.bestEpoch = epochNumber;
  s.bestMcc = val.empty() ? 0 : mcc;
  s.bestValLoss = vr.loss;
  s.bestScores = vr.scores;
  s.bestWeights = saveWeights(net);
  net->to(device);
  return true;
}

}  // namespace
}  // namespace model

std::vector<float> trainingInput(const std::string& manifest, int index,
                                 const std::vector<std::string>& bands) {
  std::vector<model::Chip> chips = model::readManifest(manifest, bands);
  if (index < 0 || index >= static_cast<int>(chips.size()))
    throw UsageError("model: chip " + std::to_string(index) + " of '" + manifest +
                     "' does not exist (" + std::to_string(chips.size()) + " chips).");
  const torch::Tensor t = chips[static_cast<size_t>(index)].image.contiguous();
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

TrainSummary trainModel(const TrainRequest& req) {
  using namespace model;
  const TrainConfig& cfg = req.config;
  const Log log = [&](const std::string& s) {
    if (req.log) req.log(s);
  };
  if (req.outPath.empty()) throw UsageError("model: no output path. Pass --out MODEL.");
  torch::Device device = parseDevice(req.device);
  setThreads(req.threads);
  const double t0 = nowSeconds();

  const TrainData d = loadTrainData(cfg);
  log("train: " + std::to_string(d.train.size()) + " training chips from " +
      std::to_string(distinctSources(d.train).size()) + " images, " + std::to_string(d.val.size()) +
      " validation chips from " + std::to_string(distinctSources(d.val).size()) + " images (" +
      fmt("%.1f", nowSeconds() - t0) + " s to load)");

  // Network (seeded), optional transfer.
  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  ResUNet net(cfg.network);
  const json initInfo =
      req.initModel.empty() ? json(nullptr) : initialiseFrom(net, req.initModel, log);
  net->to(device);
  torch::optim::Adam optim(
      net->parameters(), torch::optim::AdamOptions(cfg.learningRate).weight_decay(cfg.weightDecay));
  const int steps =
      cfg.stepsPerEpoch > 0
          ? cfg.stepsPerEpoch
          : std::max(1, static_cast<int>((d.train.size() + cfg.batchSize - 1) / cfg.batchSize));

  TrainState st;
  const std::string ckpt = checkpointPath(req.outPath);
  if (req.resume && fs::exists(ckpt)) {
    loadCheckpoint(ckpt, cfg, net, optim, device, st);
    log("train: resumed from '" + ckpt + "' after epoch " + std::to_string(st.startEpoch));
  } else if (req.resume) {
    log("train: no checkpoint '" + ckpt + "' yet; starting from scratch");
  }
  // Wall time counts data loading too, and adds up across --resume runs.
  auto wallNow = [&] { return st.priorWall + (nowSeconds() - t0); };
  auto writeModel = [&](double wall, int epochsDone) {
    writeModelBlob(req.outPath,
                   ModelBlob{buildCard(req, d, initInfo, st, steps, wall, epochsDone).dump(2),
                             st.bestWeights});
  };

  // Fine-tuning with validation chips: the initial model competes as epoch 0, so a fine-tune that
  // only makes it worse on the validation chips (noisy pseudo-labels, too high a learning rate)
  // returns the initial weights instead.
  if (!req.initModel.empty() && !d.val.empty() && st.startEpoch == 0 && st.bestEpoch < 0) {
    const ValResult v0 = validate(net, d.val, cfg.valThreshold, device);
    keepIfBest(net, cfg, d.val, v0, 0, device, st);
    writeModel(wallNow(), 0);  // a run killed before any epoch beats it leaves this model
    log("train: epoch 0 (the initial model) val_loss " + fmt("%.4f", v0.loss) + " val_f1 " +
        fmt("%.3f", v0.scores.f1()) + " val_mcc " + fmt("%.3f", v0.scores.mcc()));
  }
  int endEpoch = cfg.epochs;
  if (req.stopAfterEpochs > 0) endEpoch = std::min(endEpoch, st.startEpoch + req.stopAfterEpochs);
  for (int epoch = st.startEpoch; epoch < endEpoch; ++epoch) {
    const double e0 = nowSeconds();
    setEncoderFrozen(net, !req.initModel.empty() && epoch < cfg.freezeEncoderEpochs);
    const EpochResult er = trainEpoch(net, optim, cfg, d.train, epoch, steps, device, log);
    const ValResult vr = validate(net, d.val, cfg.valThreshold, device);
    const bool improved = keepIfBest(net, cfg, d.val, vr, epoch + 1, device, st);
    const double secs = nowSeconds() - e0;
    st.curve.push_back({{"epoch", epoch + 1},
                        {"lr", er.lr},
                        {"train_loss", er.meanLoss},
                        {"val_loss", vr.loss},
                        {"val_f1", vr.scores.f1()},
                        {"val_mcc", vr.scores.mcc()},
                        {"val_iou", vr.scores.iou()},
                        {"seconds", secs}});
    writeCurve(curvePath(req.outPath), st.curve);
    log("train: epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs) +
        " train_loss " + fmt("%.4f", er.meanLoss) +
        (d.val.empty()
             ? std::string(" (no validation chips)")
             : " val_loss " + fmt("%.4f", vr.loss) + " val_f1 " + fmt("%.3f", vr.scores.f1()) +
                   " val_mcc " + fmt("%.3f", vr.scores.mcc())) +
        (improved ? " *best*" : "") + " " + fmt("%.0f", secs) + " s");
    // Best model so far, then the checkpoint (net + optimizer + state) for --resume.
    if (improved) writeModel(wallNow(), epoch + 1);
    saveCheckpoint(ckpt, cfg, net, optim, st, epoch + 1, wallNow());
  }
  if (st.bestWeights.empty()) {  // epochs == 0: write the (initialised) network as is
    st.bestWeights = saveWeights(net);
    st.bestEpoch = -1;
  }
  TrainSummary summary;
  summary.trainChips = static_cast<int>(d.train.size());
  summary.valChips = static_cast<int>(d.val.size());
  summary.wallTimeS = wallNow();
  writeModel(summary.wallTimeS, endEpoch);
  summary.bestEpoch = d.val.empty() ? -1 : st.bestEpoch;
  summary.best = st.bestScores;
  summary.bestValLoss = st.bestValLoss;
  summary.epochsRun = std::max(0, endEpoch - st.startEpoch);
  log("train: wrote '" + req.outPath + "' (best epoch " + std::to_string(st.bestEpoch) + ", " +
      fmt("%.0f", summary.wallTimeS) + " s wall time)");
  return summary;
}

EvalSummary evaluateModel(const std::string& modelPath, const std::vector<std::string>& manifests,
                          double threshold, const std::string& device, int threads) {
  using namespace model;
  torch::Device dev = parseDevice(device);
  setThreads(threads);
  ResUNet net = loadNetwork(modelPath);
  net->to(dev);
  std::vector<Chip> chips = readManifests(manifests, net->spec.inputBands);
  ValResult r = validate(net, chips, threshold, dev);
  EvalSummary s;
  s.scores = r.scores;
  s.threshold = threshold;
  s.chips = static_cast<int>(chips.size());
  s.loss = r.loss;
  return s;
}

}  // namespace fieldseg
