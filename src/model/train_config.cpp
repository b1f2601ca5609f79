// TrainConfig parsing and the analytic size of the network. No LibTorch here on purpose: the CLI
// and tests that only need these compile in seconds.
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fieldseg/error.hpp"
#include "fieldseg/trainer.hpp"

namespace fieldseg {
namespace {

using nlohmann::json;

// Per-pixel multiply-adds of one residual block (two 3x3 convolutions, 1x1 projection when the
// channel count changes). Must mirror src/model/network.cpp.
double blockMacsPerPixel(double in, double out, bool project = false) {
  double macs = 9 * in * out + 9 * out * out;
  if (in != out || project) macs += in * out;
  return macs;
}

long long blockParams(long long in, long long out, bool project = false) {
  long long p = 9 * in * out + 2 * out + 9 * out * out + 2 * out;
  if (in != out || project) p += in * out + 2 * out;
  return p;
}

int roundUp(int v, int m) { return (v + m - 1) / m * m; }

[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& why,
                      const std::string& fix) {
  throw UsageError("model: config key '" + key + "' in " + where + ": " + why + ". " + fix);
}

void checkKeys(const json& obj, const std::set<std::string>& valid, const std::string& where,
               const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!valid.count(it.key())) {
      std::string list;
      for (const auto& k : valid) list += (list.empty() ? "" : ", ") + k;
      bad(where, prefix + it.key(), "unknown key", "Valid keys: " + list);
    }
  }
}

template <typename T>
void get(const json& obj, const char* key, T& out, const std::string& where,
         const std::string& prefix = "") {
  if (!obj.contains(key)) return;
  try {
    out = obj.at(key).get<T>();
  } catch (const json::exception& e) {
    bad(where, prefix + key, std::string("wrong type (") + e.what() + ")",
        "See configs/README.md for the expected type");
  }
}

}  // namespace

double networkFlops(const NetworkSpec& spec, int rows, int cols) {
  const int m = 1 << spec.depth;
  double px = static_cast<double>(roundUp(rows, m)) * roundUp(cols, m);
  const double w = spec.width;
  double macs = px * blockMacsPerPixel(static_cast<double>(spec.inputBands.size()), w, true);
  for (int i = 1; i <= spec.depth; ++i) {
    double ci = w * std::pow(2.0, i), cp = ci / 2;
    double pxi = px / std::pow(4.0, i);
    macs += pxi * blockMacsPerPixel(cp, ci);  // encoder block at level i
    double pxUp = px / std::pow(4.0, i - 1);  // decoder runs at level i-1
    macs += pxUp * ci * cp;                   // 2x2 stride-2 transposed conv: ci MACs per output
    macs += pxUp * blockMacsPerPixel(2 * cp, cp);
  }
  macs += px * w * 3;  // 1x1 head
  return 2 * macs;
}

long long networkParameters(const NetworkSpec& spec) {
  long long w = spec.width;
  long long p = blockParams(static_cast<long long>(spec.inputBands.size()), w, true);
  for (int i = 1; i <= spec.depth; ++i) {
    long long ci = w << i, cp = ci / 2;
    p += blockParams(cp, ci);
    p += ci * cp * 4 + cp;
    p += blockParams(2 * cp, cp);
  }
  p += w * 3 + 3;
  return p;
}

TrainConfig parseTrainConfig(const std::string& jsonText, const std::string& where) {
  json j;
  try {
    j = json::parse(jsonText);
  } catch (const json::exception& e) {
    throw UsageError("model: cannot parse config '" + where + "': " + e.what() +
                     ". Fix the JSON syntax.");
  }
  if (!j.is_object()) bad(where, "(top level)", "not a JSON object", "Write {\"name\": ...}");
  checkKeys(j,
            {"name",
             "description",
             "credits",
             "network",
             "train_manifests",
             "val_manifests",
             "val_split",
             "min_labelled_fraction",
             "seed",
             "epochs",
             "steps_per_epoch",
             "batch_size",
             "crop_px",
             "optimizer",
             "augment",
             "freeze_encoder_epochs",
             "freeze_batchnorm",
             "validation",
             "gsd_range_m",
             "thresholds",
             "data_commands"},
            where, "");
  TrainConfig c;
  c.configText = jsonText;
  get(j, "name", c.name, where);
  get(j, "description", c.description, where);
  if (j.contains("network")) {
    const json& n = j["network"];
    checkKeys(n, {"width", "depth", "input_bands"}, where, "network.");
    get(n, "width", c.network.width, where, "network.");
    get(n, "depth", c.network.depth, where, "network.");
    get(n, "input_bands", c.network.inputBands, where, "network.");
  }
  get(j, "train_manifests", c.trainManifests, where);
  get(j, "val_manifests", c.valManifests, where);
  if (j.contains("val_split")) {
    const json& v = j["val_split"];
    checkKeys(v, {"holdout_match", "holdout_every_nth"}, where, "val_split.");
    get(v, "holdout_match", c.valHoldoutMatch, where, "val_split.");
    get(v, "holdout_every_nth", c.valHoldoutEveryNth, where, "val_split.");
  }
  get(j, "min_labelled_fraction", c.minLabelledFraction, where);
  get(j, "seed", c.seed, where);
  get(j, "epochs", c.epochs, where);
  get(j, "steps_per_epoch", c.stepsPerEpoch, where);
  get(j, "batch_size", c.batchSize, where);
  get(j, "crop_px", c.cropPx, where);
  if (j.contains("optimizer")) {
    const json& o = j["optimizer"];
    checkKeys(o,
              {"learning_rate", "weight_decay", "schedule", "step_epochs", "step_gamma",
               "min_learning_rate"},
              where, "optimizer.");
    get(o, "learning_rate", c.learningRate, where, "optimizer.");
    get(o, "weight_decay", c.weightDecay, where, "optimizer.");
    get(o, "schedule", c.schedule, where, "optimizer.");
    get(o, "step_epochs", c.stepEpochs, where, "optimizer.");
    get(o, "step_gamma", c.stepGamma, where, "optimizer.");
    get(o, "min_learning_rate", c.minLearningRate, where, "optimizer.");
  }
  if (j.contains("augment")) {
    const json& a = j["augment"];
    checkKeys(a,
              {"flips", "rot90", "brightness", "contrast", "gsd_rescale_max", "gsd_rescale_prob",
               "blur_prob", "blur_sigma_max_px", "band_gain", "gamma", "haze_prob", "haze_max",
               "noise_std"},
              where, "augment.");
    get(a, "flips", c.augment.flips, where, "augment.");
    get(a, "rot90", c.augment.rot90, where, "augment.");
    get(a, "brightness", c.augment.brightness, where, "augment.");
    get(a, "contrast", c.augment.contrast, where, "augment.");
    get(a, "gsd_rescale_max", c.augment.gsdRescaleMax, where, "augment.");
    get(a, "gsd_rescale_prob", c.augment.gsdRescaleProb, where, "augment.");
    get(a, "blur_prob", c.augment.blurProb, where, "augment.");
    get(a, "blur_sigma_max_px", c.augment.blurSigmaMaxPx, where, "augment.");
    get(a, "band_gain", c.augment.bandGain, where, "augment.");
    get(a, "gamma", c.augment.gamma, where, "augment.");
    get(a, "haze_prob", c.augment.hazeProb, where, "augment.");
    get(a, "haze_max", c.augment.hazeMax, where, "augment.");
    get(a, "noise_std", c.augment.noiseStd, where, "augment.");
  }
  get(j, "freeze_encoder_epochs", c.freezeEncoderEpochs, where);
  get(j, "freeze_batchnorm", c.freezeBatchnorm, where);
  if (j.contains("validation")) {
    const json& v = j["validation"];
    checkKeys(v, {"threshold", "max_chips", "select_by"}, where, "validation.");
    get(v, "threshold", c.valThreshold, where, "validation.");
    get(v, "max_chips", c.valMaxChips, where, "validation.");
    get(v, "select_by", c.valSelectBy, where, "validation.");
    if (c.valSelectBy != "mcc" && c.valSelectBy != "loss")
      bad(where, "validation.select_by", "is '" + c.valSelectBy + "'", "Use \"mcc\" or \"loss\"");
  }
  get(j, "gsd_range_m", c.gsdRangeM, where);
  if (j.contains("thresholds")) {
    const json& t = j["thresholds"];
    checkKeys(t, {"t_ext", "t_bound", "min_area_m2"}, where, "thresholds.");
    get(t, "t_ext", c.tExt, where, "thresholds.");
    get(t, "t_bound", c.tBound, where, "thresholds.");
    get(t, "min_area_m2", c.minAreaM2, where, "thresholds.");
  }
  get(j, "data_commands", c.dataCommands, where);

  // Validation of values.
  if (c.network.width < 1 || c.network.width > 256)
    bad(where, "network.width", std::to_string(c.network.width) + " is out of range",
        "Use 1..256 (16 is the default)");
  if (c.network.depth < 1 || c.network.depth > 6)
    bad(where, "network.depth", std::to_string(c.network.depth) + " is out of range",
        "Use 1..6 (4 is the default)");
  if (c.network.inputBands.empty())
    bad(where, "network.input_bands", "is empty",
        "List band names, e.g. [\"red\",\"green\",\"blue\"]");
  std::set<std::string> seen;
  for (const auto& b : c.network.inputBands)
    if (!seen.insert(b).second)
      bad(where, "network.input_bands", "band '" + b + "' repeats", "List each band once");
  if (c.trainManifests.empty())
    bad(where, "train_manifests", "is missing or empty",
        "List the manifest.jsonl files written by `fieldseg labels --chips`");
  if (c.epochs < 0) bad(where, "epochs", "must be >= 0", "Use a positive number of epochs");
  if (c.batchSize < 1) bad(where, "batch_size", "must be >= 1", "Use e.g. 8");
  if (c.stepsPerEpoch < 0) bad(where, "steps_per_epoch", "must be >= 0", "Use 0 for one pass");
  const int m = 1 << c.network.depth;
  if (c.cropPx < m || c.cropPx % m != 0)
    bad(where, "crop_px",
        std::to_string(c.cropPx) + " is not a positive multiple of 2^depth = " + std::to_string(m),
        "Use e.g. 128 or 256");
  if (!(c.learningRate > 0)) bad(where, "optimizer.learning_rate", "must be > 0", "Use e.g. 1e-3");
  if (c.schedule != "cosine" && c.schedule != "step" && c.schedule != "constant")
    bad(where, "optimizer.schedule", "'" + c.schedule + "' is not a schedule",
        "Use \"cosine\", \"step\" or \"constant\"");
  if (c.stepEpochs < 1) bad(where, "optimizer.step_epochs", "must be >= 1", "Use e.g. 10");
  if (c.augment.gsdRescaleMax < 1)
    bad(where, "augment.gsd_rescale_max", "must be >= 1", "Use 1 (off) or e.g. 1.7");
  if (c.augment.gsdRescaleProb < 0 || c.augment.gsdRescaleProb > 1)
    bad(where, "augment.gsd_rescale_prob", "must be in [0, 1]", "Use e.g. 0.5");
  if (c.augment.contrast < 0 || c.augment.contrast >= 1)
    bad(where, "augment.contrast", "must be in [0, 1)", "Use e.g. 0.1");
  if (c.augment.brightness < 0) bad(where, "augment.brightness", "must be >= 0", "Use e.g. 0.1");
  auto probability = [&](double v, const char* key) {
    if (!(v >= 0 && v <= 1))
      bad(where, std::string("augment.") + key, "must be in [0, 1]", "Use e.g. 0.5");
  };
  probability(c.augment.blurProb, "blur_prob");
  probability(c.augment.hazeProb, "haze_prob");
  probability(c.augment.hazeMax, "haze_max");
  if (!(c.augment.blurSigmaMaxPx >= 0 && c.augment.blurSigmaMaxPx <= 8))
    bad(where, "augment.blur_sigma_max_px", "must be in [0, 8]", "Use e.g. 1.5");
  if (c.augment.blurProb > 0 && c.augment.blurSigmaMaxPx < 0.3)
    bad(where, "augment.blur_sigma_max_px", "must be >= 0.3 when blur_prob > 0", "Use e.g. 1.5");
  if (!(c.augment.bandGain >= 0 && c.augment.bandGain < 1))
    bad(where, "augment.band_gain", "must be in [0, 1)", "Use e.g. 0.1");
  if (!(c.augment.gamma >= 0 && c.augment.gamma <= 2))
    bad(where, "augment.gamma", "must be in [0, 2]", "Use e.g. 0.2");
  if (!(c.augment.noiseStd >= 0 && c.augment.noiseStd <= 1))
    bad(where, "augment.noise_std", "must be in [0, 1]", "Use e.g. 0.03");
  if (c.valThreshold <= 0 || c.valThreshold >= 1)
    bad(where, "validation.threshold", "must be in (0, 1)", "Use 0.5");
  if (c.valHoldoutEveryNth < 0)
    bad(where, "val_split.holdout_every_nth", "must be >= 0", "Use 0 (off) or e.g. 6");
  if (!c.gsdRangeM.empty() && (c.gsdRangeM.size() != 2 || c.gsdRangeM[0] > c.gsdRangeM[1]))
    bad(where, "gsd_range_m", "must be [min, max]", "E.g. [1, 5]");
  return c;
}

TrainConfig loadTrainConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("model: cannot open config '" + path + "': no such file. Check --config.");
  std::stringstream ss;
  ss << in.rdbuf();
  return parseTrainConfig(ss.str(), path);
}

double PixelScores::precision() const {
  return tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
}
double PixelScores::recall() const {
  return tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
}
double PixelScores::f1() const {
  long long d = 2 * tp + fp + fn;
  return d > 0 ? 2.0 * static_cast<double>(tp) / static_cast<double>(d) : 0.0;
}
double PixelScores::iou() const {
  long long d = tp + fp + fn;
  return d > 0 ? static_cast<double>(tp) / static_cast<double>(d) : 0.0;
}
double PixelScores::mcc() const {
  double t = static_cast<double>(tp), f = static_cast<double>(fp), n = static_cast<double>(fn),
         tn_ = static_cast<double>(tn);
  double d = std::sqrt((t + f) * (t + n) * (tn_ + f) * (tn_ + n));
  return d > 0 ? (t * tn_ - f * n) / d : 0.0;
}

}  // namespace fieldseg
