// `fieldseg train`: chips from manifests -> augmented crops -> masked Tanimoto loss -> Adam, with
// per-epoch validation, best-checkpoint keeping, resumable checkpoints and a CSV learning curve.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "chip_file.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/normalisation.hpp"
#include "fieldseg/version.hpp"
#include "net.hpp"
#include "sensor_degrade.hpp"

namespace fieldseg {
namespace model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using torch::indexing::Slice;

struct Chip {
  torch::Tensor image;  ///< [C,H,W] normalised, invalid pixels 0
  torch::Tensor label;  ///< [4,H,W]: extent, boundary, distance, mask
  std::string sourceImage;
  std::string file;
  double gsdM = 0;
  double labelledFraction = 0;
};

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<Chip> readManifest(const std::string& manifest, const std::vector<std::string>& bands) {
  std::ifstream in(manifest);
  if (!in)
    throw IoError("model: cannot open chip manifest '" + manifest +
                  "': no such file. Make chips with `fieldseg labels ... --chips DIR` first.");
  const fs::path dir = fs::path(manifest).parent_path();
  std::vector<Chip> chips;
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw DataError("model: manifest '" + manifest + "' line " + std::to_string(lineNo) +
                      " is not JSON (" + e.what() + "). Regenerate the chips.");
    }
    Chip c;
    std::vector<std::string> manifestBands;
    std::vector<json> stats;
    try {
      c.file = (dir / j.at("image").get<std::string>()).string();
      c.sourceImage = j.value("source_image", std::string());
      c.gsdM = j.value("gsd_m", 0.0);
      c.labelledFraction = j.value("labelled_fraction", 1.0);
      manifestBands = j.at("bands").get<std::vector<std::string>>();
      stats = j.at("band_stats").get<std::vector<json>>();
    } catch (const json::exception& e) {
      throw DataError("model: manifest '" + manifest + "' line " + std::to_string(lineNo) +
                      " lacks a key (" + e.what() + "). See briefs/contracts.md, chip manifest.");
    }
    for (auto& b : manifestBands) b = lower(b);
    if (stats.size() != manifestBands.size())
      throw DataError("model: manifest '" + manifest + "' line " + std::to_string(lineNo) +
                      ": band_stats has " + std::to_string(stats.size()) + " entries for " +
                      std::to_string(manifestBands.size()) + " bands. Regenerate the chips.");
    std::vector<std::uint8_t> valid;
    torch::Tensor raw = readChipTensor(c.file, nullptr, &valid);
    if (raw.size(0) != static_cast<int64_t>(manifestBands.size()))
      throw DataError("model: chip '" + c.file + "' has " + std::to_string(raw.size(0)) +
                      " bands, its manifest lists " + std::to_string(manifestBands.size()) +
                      ". Regenerate the chips.");
    const int64_t h = raw.size(1), w = raw.size(2);
    // Invalid = masked by the raster or 0 in every band (contracts.md: invalid pixels are 0).
    torch::Tensor validT = torch::from_blob(valid.data(), {h, w}, torch::kUInt8).to(torch::kBool);
    validT = validT & raw.ne(0).any(0);
    std::vector<torch::Tensor> planes;
    for (const auto& want : bands) {
      auto it = std::find(manifestBands.begin(), manifestBands.end(), lower(want));
      if (it == manifestBands.end()) {
        std::string list;
        for (const auto& b : manifestBands) list += (list.empty() ? "" : ",") + b;
        throw DataError("model: chip '" + c.file + "' has no band '" + want + "' (it has " + list +
                        "). Make chips with that band or change network.input_bands.");
      }
      const size_t b = static_cast<size_t>(it - manifestBands.begin());
      const double p2 = stats[b].value("p2", 0.0), p98 = stats[b].value("p98", 1.0);
      torch::Tensor plane = raw[static_cast<int64_t>(b)].contiguous().clone();
      normalisePlane(plane.data_ptr<float>(), nullptr, static_cast<size_t>(h * w), p2, p98);
      planes.push_back(plane);
    }
    c.image = torch::stack(planes).mul(validT.unsqueeze(0).to(torch::kFloat32)).contiguous();

    std::string labelPath;
    try {
      labelPath = (dir / j.at("labels").get<std::string>()).string();
    } catch (const json::exception& e) {
      throw DataError("model: manifest '" + manifest + "' line " + std::to_string(lineNo) +
                      " lacks 'labels'. Regenerate the chips.");
    }
    std::vector<std::string> labelNames;
    torch::Tensor lab = readChipTensor(labelPath, &labelNames, nullptr);
    if (lab.size(0) < 4 || lab.size(1) != h || lab.size(2) != w)
      throw DataError("model: label chip '" + labelPath +
                      "' must have 4 bands on the image grid (" + std::to_string(h) + "x" +
                      std::to_string(w) + "). Regenerate the chips.");
    std::vector<torch::Tensor> lp;
    const std::vector<std::string> order{"extent", "boundary", "distance", "mask"};
    for (size_t k = 0; k < order.size(); ++k) {
      auto it = std::find(labelNames.begin(), labelNames.end(), order[k]);
      int64_t idx = it == labelNames.end() ? static_cast<int64_t>(k) : it - labelNames.begin();
      lp.push_back(lab[idx]);
    }
    c.label = torch::stack(lp).clamp(0, 1);
    // A pixel the image marks invalid never counts.
    c.label[3] = c.label[3].ge(0.5).logical_and(validT).to(torch::kFloat32);
    c.label = c.label.contiguous();
    chips.push_back(std::move(c));
  }
  return chips;
}

std::vector<Chip> readManifests(const std::vector<std::string>& manifests,
                                const std::vector<std::string>& bands) {
  std::vector<Chip> all;
  for (const auto& m : manifests) {
    auto chips = readManifest(m, bands);
    for (auto& c : chips) all.push_back(std::move(c));
  }
  return all;
}

// ---- augmentation ---------------------------------------------------------------------------

struct Sample {
  torch::Tensor image, label;
};

Sample augment(const Chip& chip, const TrainConfig& cfg, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u01(0, 1);
  torch::Tensor img = chip.image, lab = chip.label;
  const AugmentConfig& a = cfg.augment;
  // Random GSD rescale: area-average downsampling of image and targets; a pixel keeps mask 1 only
  // where all of its source pixels were labelled.
  if (a.gsdRescaleMax > 1 && u01(rng) < a.gsdRescaleProb) {
    double f = 1 + u01(rng) * (a.gsdRescaleMax - 1);
    int64_t h = std::max<int64_t>(1, std::lround(img.size(1) / f));
    int64_t w = std::max<int64_t>(1, std::lround(img.size(2) / f));
    namespace F = torch::nn::functional;
    auto opts = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kArea);
    img = F::interpolate(img.unsqueeze(0), opts).squeeze(0);
    torch::Tensor l = F::interpolate(lab.unsqueeze(0), opts).squeeze(0);
    l[3] = l[3].ge(0.999).to(torch::kFloat32);
    lab = l;
  }
  // Random crop (zero padding with mask 0 when the chip is smaller than the crop).
  const int64_t crop = cfg.cropPx;
  int64_t h = img.size(1), w = img.size(2);
  if (h < crop || w < crop) {
    img = torch::constant_pad_nd(
        img, {0, std::max<int64_t>(0, crop - w), 0, std::max<int64_t>(0, crop - h)}, 0);
    lab = torch::constant_pad_nd(
        lab, {0, std::max<int64_t>(0, crop - w), 0, std::max<int64_t>(0, crop - h)}, 0);
    h = img.size(1);
    w = img.size(2);
  }
  int64_t y0 = static_cast<int64_t>(u01(rng) * static_cast<double>(h - crop + 1));
  int64_t x0 = static_cast<int64_t>(u01(rng) * static_cast<double>(w - crop + 1));
  y0 = std::min(y0, h - crop);
  x0 = std::min(x0, w - crop);
  img = img.index({Slice(), Slice(y0, y0 + crop), Slice(x0, x0 + crop)});
  lab = lab.index({Slice(), Slice(y0, y0 + crop), Slice(x0, x0 + crop)});
  if (a.flips) {
    if (u01(rng) < 0.5) {
      img = img.flip({2});
      lab = lab.flip({2});
    }
    if (u01(rng) < 0.5) {
      img = img.flip({1});
      lab = lab.flip({1});
    }
  }
  if (a.rot90) {
    int k = static_cast<int>(u01(rng) * 4) % 4;
    if (k) {
      img = torch::rot90(img, k, {1, 2});
      lab = torch::rot90(lab, k, {1, 2});
    }
  }
  double c = 1 + (2 * u01(rng) - 1) * a.contrast;
  double b = (2 * u01(rng) - 1) * a.brightness;
  if (c != 1 || b != 0) {
    torch::Tensor valid = img.ne(0).any(0, true).to(torch::kFloat32);
    img = ((img * c + b).clamp(-1, 2) * valid);
  }
  img = degradeSensor(img, a, rng);
  return {img.contiguous(), lab.contiguous()};
}

// ---- helpers ----------------------------------------------------------------------------------

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string utcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

json scoresJson(const PixelScores& s) {
  return {{"f1", s.f1()},
          {"mcc", s.mcc()},
          {"iou", s.iou()},
          {"precision", s.precision()},
          {"recall", s.recall()},
          {"tp", s.tp},
          {"fp", s.fp},
          {"fn", s.fn},
          {"tn", s.tn}};
}

PixelScores scoresFromJson(const json& j) {
  PixelScores s;
  s.tp = j.value("tp", 0LL);
  s.fp = j.value("fp", 0LL);
  s.fn = j.value("fn", 0LL);
  s.tn = j.value("tn", 0LL);
  return s;
}

struct ValResult {
  PixelScores scores;
  double loss = 0;
};

ValResult validate(ResUNet& net, const std::vector<Chip>& chips, double threshold,
                   torch::Device device) {
  ValResult r;
  if (chips.empty()) return r;
  torch::NoGradGuard noGrad;
  net->eval();
  double lossSum = 0;
  for (const auto& c : chips) {
    torch::Tensor x = c.image.unsqueeze(0).to(device);
    torch::Tensor lab = c.label.unsqueeze(0).to(device);
    torch::Tensor prob = predictProbabilities(net, x);
    torch::Tensor target = lab.index({Slice(), Slice(0, 3)});
    torch::Tensor mask = lab.index({Slice(), Slice(3, 4)});
    lossSum += tanimotoLoss(prob, target, mask).item<double>();
    accumulateScores(prob, target, mask, threshold, r.scores);
  }
  r.loss = lossSum / static_cast<double>(chips.size());
  return r;
}

// Transfer: copy every parameter/buffer with the same name and shape; the layers that read the
// input bands (enc0.conv1, enc0.skip) are mapped by band NAME: a band the source model had keeps
// its weights, a new band gets the mean of the source bands' weights.
void transferWeights(ResUNet& dst, ResUNet& src, const std::string& srcPath) {
  torch::NoGradGuard noGrad;
  const auto& srcBands = src->spec.inputBands;
  const auto& dstBands = dst->spec.inputBands;
  auto srcParams = src->named_parameters(true);
  auto srcBuffers = src->named_buffers(true);
  auto copyInto = [&](const std::string& name, torch::Tensor& t, const torch::Tensor& s) {
    const bool inputLayer = name == "enc0.conv1.weight" || name == "enc0.skip.weight";
    if (inputLayer && (srcBands != dstBands)) {
      torch::Tensor mean = s.mean(1);
      for (size_t b = 0; b < dstBands.size(); ++b) {
        auto it = std::find(srcBands.begin(), srcBands.end(), dstBands[b]);
        torch::Tensor w = it == srcBands.end() ? mean : s.select(1, it - srcBands.begin());
        t.select(1, static_cast<int64_t>(b)).copy_(w);
      }
      return;
    }
    if (t.sizes() != s.sizes())
      throw DataError("model: cannot initialise from '" + srcPath + "': layer '" + name +
                      "' has shape " + c10::str(s.sizes()) + ", the new network needs " +
                      c10::str(t.sizes()) +
                      ". Use the same network.width and network.depth as the " + "init model.");
    t.copy_(s);
  };
  for (auto& p : dst->named_parameters(true)) {
    const torch::Tensor* s = srcParams.find(p.key());
    if (!s) continue;
    torch::Tensor t = p.value();
    copyInto(p.key(), t, *s);
  }
  for (auto& p : dst->named_buffers(true)) {
    const torch::Tensor* s = srcBuffers.find(p.key());
    if (!s) continue;
    torch::Tensor t = p.value();
    copyInto(p.key(), t, *s);
  }
}

void setEncoderFrozen(ResUNet& net, bool frozen) {
  for (auto& p : net->named_parameters(true))
    if (p.key().rfind("enc", 0) == 0) p.value().set_requires_grad(!frozen);
}

double learningRate(const TrainConfig& cfg, long long step, long long totalSteps, int epoch) {
  if (cfg.schedule == "constant") return cfg.learningRate;
  if (cfg.schedule == "step")
    return cfg.learningRate * std::pow(cfg.stepGamma, static_cast<double>(epoch / cfg.stepEpochs));
  double t = totalSteps > 1 ? static_cast<double>(step) / static_cast<double>(totalSteps - 1) : 0;
  return cfg.minLearningRate +
         0.5 * (cfg.learningRate - cfg.minLearningRate) * (1 + std::cos(M_PI * std::min(1.0, t)));
}

std::string checkpointPath(const std::string& out) { return out + ".ckpt"; }
std::string curvePath(const std::string& out) { return out + ".curve.csv"; }

void writeCurve(const std::string& path, const json& rows) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) throw IoError("model: cannot write learning curve '" + path + "'. Check permissions.");
  f << "epoch,learning_rate,train_loss,val_loss,val_f1,val_mcc,val_iou,epoch_seconds\n";
  for (const auto& r : rows)
    f << r.at("epoch").get<int>() << "," << r.at("lr").get<double>() << ","
      << r.at("train_loss").get<double>() << "," << r.at("val_loss").get<double>() << ","
      << r.at("val_f1").get<double>() << "," << r.at("val_mcc").get<double>() << ","
      << r.at("val_iou").get<double>() << "," << r.at("seconds").get<double>() << "\n";
}

std::vector<std::string> distinctSources(const std::vector<Chip>& chips) {
  std::set<std::string> s;
  for (const auto& c : chips) s.insert(c.sourceImage);
  return {s.begin(), s.end()};
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
  auto log = [&](const std::string& s) {
    if (req.log) req.log(s);
  };
  if (req.outPath.empty()) throw UsageError("model: no output path. Pass --out MODEL.");
  torch::Device device = parseDevice(req.device);
  setThreads(req.threads);
  const double t0 = nowSeconds();

  // Data: training chips, then validation = explicit manifests and/or held-out source images.
  std::vector<Chip> train = readManifests(cfg.trainManifests, cfg.network.inputBands);
  std::vector<Chip> val = readManifests(cfg.valManifests, cfg.network.inputBands);
  {
    std::vector<std::string> sources = distinctSources(train);
    std::set<std::string> holdout;
    for (const auto& s : sources)
      for (const auto& m : cfg.valHoldoutMatch)
        if (s.find(m) != std::string::npos) holdout.insert(s);
    if (cfg.valHoldoutEveryNth > 0)
      for (size_t i = 0; i < sources.size(); ++i)
        if (i % static_cast<size_t>(cfg.valHoldoutEveryNth) ==
            static_cast<size_t>(cfg.valHoldoutEveryNth - 1))
          holdout.insert(sources[i]);
    std::vector<Chip> keep;
    for (auto& c : train) {
      if (holdout.count(c.sourceImage))
        val.push_back(std::move(c));
      else if (c.labelledFraction >= cfg.minLabelledFraction)
        keep.push_back(std::move(c));
    }
    train = std::move(keep);
  }
  if (train.empty())
    throw DataError("model: no training chips left in " +
                    std::to_string(cfg.trainManifests.size()) +
                    " manifest(s) after the validation split and min_labelled_fraction. Check "
                    "val_split and the manifests.");
  if (cfg.valMaxChips > 0 && static_cast<int>(val.size()) > cfg.valMaxChips) {
    // Deterministic, spread-out subset.
    std::vector<Chip> sub;
    double stride = static_cast<double>(val.size()) / cfg.valMaxChips;
    for (int i = 0; i < cfg.valMaxChips; ++i)
      sub.push_back(std::move(val[static_cast<size_t>(i * stride)]));
    val = std::move(sub);
  }
  double gsdMin = 1e30, gsdMax = 0;
  for (const auto& c : train) {
    gsdMin = std::min(gsdMin, c.gsdM);
    gsdMax = std::max(gsdMax,
                      c.gsdM * (cfg.augment.gsdRescaleProb > 0 ? cfg.augment.gsdRescaleMax : 1.0));
  }
  log("train: " + std::to_string(train.size()) + " training chips from " +
      std::to_string(distinctSources(train).size()) + " images, " + std::to_string(val.size()) +
      " validation chips from " + std::to_string(distinctSources(val).size()) + " images (" +
      fmt("%.1f", nowSeconds() - t0) + " s to load)");

  // Network (seeded), optional transfer.
  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  ResUNet net(cfg.network);
  json initInfo = nullptr;
  if (!req.initModel.empty()) {
    json initCard;
    ResUNet src = loadNetwork(req.initModel, &initCard);
    if (src->spec.width != cfg.network.width || src->spec.depth != cfg.network.depth)
      throw UsageError(
          "model: --init '" + req.initModel + "' has width " + std::to_string(src->spec.width) +
          " / depth " + std::to_string(src->spec.depth) + ", the config asks for " +
          std::to_string(cfg.network.width) + " / " + std::to_string(cfg.network.depth) +
          ". Set network.width/depth to the init model's.");
    transferWeights(net, src, req.initModel);
    initInfo = {{"path", req.initModel},
                {"name", initCard.value("name", std::string())},
                {"fieldseg_version", initCard.value("fieldseg_version", std::string())},
                {"input_bands", src->spec.inputBands},
                {"band_rule",
                 "first-layer weights mapped by band name; new bands = mean of the "
                 "init model's band weights"}};
    log("train: initialised from '" + req.initModel + "' (" +
        initCard.value("name", std::string("?")) + ")");
  }
  net->to(device);
  torch::optim::Adam optim(
      net->parameters(), torch::optim::AdamOptions(cfg.learningRate).weight_decay(cfg.weightDecay));

  const int steps =
      cfg.stepsPerEpoch > 0
          ? cfg.stepsPerEpoch
          : std::max(1, static_cast<int>((train.size() + cfg.batchSize - 1) / cfg.batchSize));
  const long long totalSteps = static_cast<long long>(steps) * cfg.epochs;

  // State that a checkpoint carries.
  int startEpoch = 0;
  double priorWall = 0;
  json curve = json::array();
  int bestEpoch = -1;
  double bestMcc = -2, bestValLoss = 1e30;
  PixelScores bestScores;
  std::string bestWeights;
  const std::string ckpt = checkpointPath(req.outPath);

  if (req.resume && fs::exists(ckpt)) {
    ModelBlob blob = readModelBlob(ckpt);
    json st = json::parse(blob.card);
    if (st.value("config_text", std::string()) != cfg.configText)
      throw UsageError("model: checkpoint '" + ckpt +
                       "' was made with another config. Rerun "
                       "without --resume (it starts over) or pass the original config.");
    std::istringstream in(blob.weights, std::ios::binary);
    torch::serialize::InputArchive ar;
    ar.load_from(in);
    torch::serialize::InputArchive netAr, optAr, bestAr;
    ar.read("net", netAr);
    ar.read("optim", optAr);
    net->load(netAr);
    optim.load(optAr);
    net->to(device);
    startEpoch = st.at("epochs_done").get<int>();
    priorWall = st.at("wall_time_s").get<double>();
    curve = st.at("curve");
    bestEpoch = st.at("best_epoch").get<int>();
    bestMcc = st.at("best_mcc").get<double>();
    bestValLoss = st.at("best_val_loss").get<double>();
    bestScores = scoresFromJson(st.at("best_scores"));
    if (st.value("has_best", false)) {
      torch::Tensor b;
      ar.read("best", b);
      bestWeights.assign(static_cast<const char*>(b.data_ptr()), static_cast<size_t>(b.numel()));
    }
    log("train: resumed from '" + ckpt + "' after epoch " + std::to_string(startEpoch));
  } else if (req.resume) {
    log("train: no checkpoint '" + ckpt + "' yet; starting from scratch");
  }

  auto buildCard = [&](double wall, int epochsDone) {
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
        {"normalisation_rule",
         "clamp((v - p2[b]) / max(p98[b] - p2[b], 1e-6), -1, 2); invalid -> 0"},
        {"gsd_range_m", cfg.gsdRangeM.size() == 2 ? json(cfg.gsdRangeM)
                                                  : json::array({std::round(gsdMin * 100) / 100,
                                                                 std::round(gsdMax * 100) / 100})},
        {"thresholds",
         {{"t_ext", cfg.tExt}, {"t_bound", cfg.tBound}, {"min_area_m2", cfg.minAreaM2}}},
        {"training",
         {{"config_path", req.configPath},
          {"config", configJson},
          {"commands", commands},
          {"init_model", initInfo},
          {"train_manifests", cfg.trainManifests},
          {"val_manifests", cfg.valManifests},
          {"train_chips", train.size()},
          {"val_chips", val.size()},
          {"train_source_images", distinctSources(train)},
          {"val_source_images", distinctSources(val)},
          {"loss", "masked Tanimoto with complement, mean over extent/boundary/distance"},
          {"optimizer", "adam"},
          {"seed", cfg.seed},
          {"epochs", epochsDone},
          {"steps_per_epoch", steps},
          {"device", req.device},
          {"threads", at::get_num_threads()},
          {"wall_time_s", std::round(wall)}}},
        {"validation", nullptr}};
    if (!val.empty() && bestEpoch >= 0) {
      json v = scoresJson(bestScores);
      v["metric"] = "masked pixel scores of the extent head on the validation chips";
      v["threshold"] = cfg.valThreshold;
      v["best_epoch"] = bestEpoch;
      v["loss"] = bestValLoss;
      v["chips"] = val.size();
      card["validation"] = v;
    }
    return card;
  };
  auto writeModel = [&](const std::string& weights, double wall, int epochsDone) {
    writeModelBlob(req.outPath, ModelBlob{buildCard(wall, epochsDone).dump(2), weights});
  };

  TrainSummary summary;
  summary.trainChips = static_cast<int>(train.size());
  summary.valChips = static_cast<int>(val.size());
  // Wall time counts data loading too, and adds up across --resume runs.
  auto wallNow = [&] { return priorWall + (nowSeconds() - t0); };

  // Fine-tuning with validation chips: the initial model competes as epoch 0, so a fine-tune that
  // only makes it worse on the validation chips (noisy pseudo-labels, too high a learning rate)
  // returns the initial weights instead.
  if (!req.initModel.empty() && !val.empty() && startEpoch == 0 && bestEpoch < 0) {
    ValResult v0 = validate(net, val, cfg.valThreshold, device);
    bestEpoch = 0;
    bestMcc = v0.scores.mcc();
    bestValLoss = v0.loss;
    bestScores = v0.scores;
    bestWeights = saveWeights(net);
    net->to(device);
    log("train: epoch 0 (the initial model) val_loss " + fmt("%.4f", v0.loss) + " val_f1 " +
        fmt("%.3f", v0.scores.f1()) + " val_mcc " + fmt("%.3f", bestMcc));
  }
  int endEpoch = cfg.epochs;
  if (req.stopAfterEpochs > 0) endEpoch = std::min(endEpoch, startEpoch + req.stopAfterEpochs);
  for (int epoch = startEpoch; epoch < endEpoch; ++epoch) {
    const double e0 = nowSeconds();
    setEncoderFrozen(net, !req.initModel.empty() && epoch < cfg.freezeEncoderEpochs);
    std::mt19937_64 rng(static_cast<uint64_t>(cfg.seed) * 1000003ull +
                        static_cast<uint64_t>(epoch));
    std::vector<size_t> order(train.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    size_t cursor = 0;
    net->train();
    if (cfg.freezeBatchnorm)
      for (auto& m : net->modules(false))
        if (m->as<torch::nn::BatchNorm2d>()) m->eval();
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
      torch::Tensor prob = torch::sigmoid(net->forward(x));
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
    ValResult vr = validate(net, val, cfg.valThreshold, device);
    const double mcc = vr.scores.mcc();
    const bool improved =
        val.empty() ||
        (cfg.valSelectBy == "loss" ? vr.loss < bestValLoss
                                   : mcc > bestMcc || (mcc == bestMcc && vr.loss < bestValLoss));
    if (improved) {
      bestEpoch = epoch + 1;
      bestMcc = val.empty() ? 0 : mcc;
      bestValLoss = vr.loss;
      bestScores = vr.scores;
      bestWeights = saveWeights(net);
      net->to(device);
    }
    const double secs = nowSeconds() - e0;
    curve.push_back({{"epoch", epoch + 1},
                     {"lr", lr},
                     {"train_loss", lossSum / steps},
                     {"val_loss", vr.loss},
                     {"val_f1", vr.scores.f1()},
                     {"val_mcc", mcc},
                     {"val_iou", vr.scores.iou()},
                     {"seconds", secs}});
    writeCurve(curvePath(req.outPath), curve);
    log("train: epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs) +
        " train_loss " + fmt("%.4f", lossSum / steps) +
        (val.empty() ? std::string(" (no validation chips)")
                     : " val_loss " + fmt("%.4f", vr.loss) + " val_f1 " +
                           fmt("%.3f", vr.scores.f1()) + " val_mcc " + fmt("%.3f", mcc)) +
        (improved ? " *best*" : "") + " " + fmt("%.0f", secs) + " s");
    // Best model so far, then the checkpoint (net + optimizer + state) for --resume.
    if (improved) writeModel(bestWeights, wallNow(), epoch + 1);
    {
      torch::serialize::OutputArchive ar, netAr, optAr;
      net->save(netAr);
      optim.save(optAr);
      ar.write("net", netAr);
      ar.write("optim", optAr);
      bool hasBest = !bestWeights.empty();
      if (hasBest) {
        torch::Tensor b = torch::from_blob(
            bestWeights.data(), {static_cast<int64_t>(bestWeights.size())}, torch::kUInt8);
        ar.write("best", b.clone());
      }
      std::ostringstream os(std::ios::binary);
      ar.save_to(os);
      json st = {{"config_text", cfg.configText},
                 {"epochs_done", epoch + 1},
                 {"wall_time_s", wallNow()},
                 {"curve", curve},
                 {"best_epoch", bestEpoch},
                 {"best_mcc", bestMcc},
                 {"best_val_loss", bestValLoss},
                 {"best_scores", scoresJson(bestScores)},
                 {"has_best", hasBest}};
      writeModelBlob(ckpt, ModelBlob{st.dump(), os.str()});
    }
  }
  if (bestWeights.empty()) {  // epochs == 0: write the (initialised) network as is
    bestWeights = saveWeights(net);
    bestEpoch = -1;
  }
  summary.wallTimeS = wallNow();
  writeModel(bestWeights, summary.wallTimeS, endEpoch);
  summary.bestEpoch = val.empty() ? -1 : bestEpoch;
  summary.best = bestScores;
  summary.bestValLoss = bestValLoss;
  summary.epochsRun = std::max(0, endEpoch - startEpoch);
  log("train: wrote '" + req.outPath + "' (best epoch " + std::to_string(bestEpoch) + ", " +
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
