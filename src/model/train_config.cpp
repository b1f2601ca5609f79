// TrainConfig parsing and the analytic size of the network. No LibTorch here on purpose: the CLI
// and tests that only need these compile in seconds.
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

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

// Every config key, declared once: its dotted path ("optimizer.learning_rate") and the member it
// fills. The valid-key lists of each object and the reading both come from this table
// (configs/README.md documents the keys).
struct KeyBinding {
  std::string path;
  std::function<void(const json&, TrainConfig&, const std::string& where)> read;  ///< null: ignored
};

template <typename F>
KeyBinding bindKey(const char* path, F member) {
  return {path, [member, key = std::string(path)](const json& v, TrainConfig& c,
                                                  const std::string& where) {
            auto& out = member(c);
            using T = std::decay_t<decltype(out)>;
            try {
              out = v.get<T>();
            } catch (const json::exception& e) {
              bad(where, key, std::string("wrong type (") + e.what() + ")",
                  "See configs/README.md for the expected type");
            }
          }};
}

#define FIELDSEG_KEY(path, member) \
  bindKey(                         \
      path, [](TrainConfig & c) -> auto& { return c.member; })

const std::vector<KeyBinding>& keyBindings() {
  static const std::vector<KeyBinding> keys = {
      FIELDSEG_KEY("name", name),
      FIELDSEG_KEY("description", description),
      {"credits", nullptr},  // read from the config text by the model card
      FIELDSEG_KEY("network.width", network.width),
      FIELDSEG_KEY("network.depth", network.depth),
      FIELDSEG_KEY("network.input_bands", network.inputBands),
      FIELDSEG_KEY("train_manifests", trainManifests),
      FIELDSEG_KEY("val_manifests", valManifests),
      FIELDSEG_KEY("val_split.holdout_match", valHoldoutMatch),
      FIELDSEG_KEY("val_split.holdout_every_nth", valHoldoutEveryNth),
      FIELDSEG_KEY("min_labelled_fraction", minLabelledFraction),
      FIELDSEG_KEY("seed", seed),
      FIELDSEG_KEY("epochs", epochs),
      FIELDSEG_KEY("steps_per_epoch", stepsPerEpoch),
      FIELDSEG_KEY("batch_size", batchSize),
      FIELDSEG_KEY("crop_px", cropPx),
      FIELDSEG_KEY("precision", precision),
      FIELDSEG_KEY("optimizer.learning_rate", learningRate),
      FIELDSEG_KEY("optimizer.weight_decay", weightDecay),
      FIELDSEG_KEY("optimizer.schedule", schedule),
      FIELDSEG_KEY("optimizer.step_epochs", stepEpochs),
      FIELDSEG_KEY("optimizer.step_gamma", stepGamma),
      FIELDSEG_KEY("optimizer.min_learning_rate", minLearningRate),
      FIELDSEG_KEY("augment.flips", augment.flips),
      FIELDSEG_KEY("augment.rot90", augment.rot90),
      FIELDSEG_KEY("augment.brightness", augment.brightness),
      FIELDSEG_KEY("augment.contrast", augment.contrast),
      FIELDSEG_KEY("augment.gsd_rescale_max", augment.gsdRescaleMax),
      FIELDSEG_KEY("augment.gsd_rescale_prob", augment.gsdRescaleProb),
      FIELDSEG_KEY("augment.blur_prob", augment.blurProb),
      FIELDSEG_KEY("augment.blur_sigma_max_px", augment.blurSigmaMaxPx),
      FIELDSEG_KEY("augment.band_gain", augment.bandGain),
      FIELDSEG_KEY("augment.gamma", augment.gamma),
      FIELDSEG_KEY("augment.haze_prob", augment.hazeProb),
      FIELDSEG_KEY("augment.haze_max", augment.hazeMax),
      FIELDSEG_KEY("augment.noise_std", augment.noiseStd),
      FIELDSEG_KEY("augment.shuffle_dates", augment.shuffleDates),
      FIELDSEG_KEY("freeze_encoder_epochs", freezeEncoderEpochs),
      FIELDSEG_KEY("freeze_batchnorm", freezeBatchnorm),
      FIELDSEG_KEY("validation.threshold", valThreshold),
      FIELDSEG_KEY("validation.max_chips", valMaxChips),
      FIELDSEG_KEY("validation.select_by", valSelectBy),
      FIELDSEG_KEY("gsd_range_m", gsdRangeM),
      FIELDSEG_KEY("thresholds.t_ext", thresholds.tExt),
      FIELDSEG_KEY("thresholds.t_bound", thresholds.tBound),
      FIELDSEG_KEY("thresholds.min_area_m2", thresholds.minAreaM2),
      FIELDSEG_KEY("data_commands", dataCommands),
  };
  return keys;
}

#undef FIELDSEG_KEY

// Ranges and combinations of the values read.
void checkValues(const TrainConfig& c, const std::string& where) {
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
  if (c.precision != "fp32" && c.precision != "bf16")
    bad(where, "precision", "'" + c.precision + "' is not fp32 or bf16",
        "Use \"bf16\" on a CPU with AMX (lscpu lists amx_bf16), else \"fp32\"");
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
  if (c.augment.shuffleDates && timeStackBands(c.network.inputBands) == 0)
    bad(where, "augment.shuffle_dates", "needs network.input_bands to be a time stack",
        "Name the bands base@date, the same bases for every date (e.g. red@2021_03, "
        "nir@2021_03, red@2021_08, nir@2021_08), or drop augment.shuffle_dates");
  if (c.valThreshold <= 0 || c.valThreshold >= 1)
    bad(where, "validation.threshold", "must be in (0, 1)", "Use 0.5");
  if (c.valHoldoutEveryNth < 0)
    bad(where, "val_split.holdout_every_nth", "must be >= 0", "Use 0 (off) or e.g. 6");
  if (!c.gsdRangeM.empty() && (c.gsdRangeM.size() != 2 || c.gsdRangeM[0] > c.gsdRangeM[1]))
    bad(where, "gsd_range_m", "must be [min, max]", "E.g. [1, 5]");
  if (c.valSelectBy != "mcc" && c.valSelectBy != "loss")
    bad(where, "validation.select_by", "is '" + c.valSelectBy + "'", "Use \"mcc\" or \"loss\"");
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

std::vector<std::string> trainConfigKeys() {
  std::vector<std::string> out;
  for (const auto& k : keyBindings()) out.push_back(k.path);
  return out;
}

StackBand splitStackBand(const std::string& name) {
  const size_t at = name.find('@');
  if (at == std::string::npos) return {name, ""};
  return {name.substr(0, at), name.substr(at + 1)};
}

int timeStackBands(const std::vector<std::string>& bands) {
  std::vector<StackBand> b;
  for (const std::string& n : bands) b.push_back(splitStackBand(n));
  if (b.empty() || b[0].date.empty()) return 0;
  size_t per = 0;  // the first date's bands
  while (per < b.size() && b[per].date == b[0].date) ++per;
  if (b.size() % per || b.size() / per < 2) return 0;
  std::set<std::string> dates;
  for (size_t first = 0; first < b.size(); first += per) {
    if (!dates.insert(b[first].date).second) return 0;  // a date twice
    for (size_t k = 0; k < per; ++k) {
      const StackBand& band = b[first + k];
      if (band.base.empty() || band.date != b[first].date || band.base != b[k].base) return 0;
    }
  }
  return static_cast<int>(per);
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
  // The valid keys of the top level and of each section, from the one table.
  std::map<std::string, std::set<std::string>> valid;
  for (const auto& k : keyBindings()) {
    const size_t dot = k.path.find('.');
    valid[""].insert(k.path.substr(0, dot));
    if (dot != std::string::npos) valid[k.path.substr(0, dot)].insert(k.path.substr(dot + 1));
  }
  checkKeys(j, valid[""], where, "");
  for (const auto& [section, keys] : valid) {
    if (section.empty() || !j.contains(section) || j[section].is_null()) continue;
    if (!j[section].is_object())
      bad(where, section, "must be an object", "See configs/README.md for its keys");
    checkKeys(j[section], keys, where, section + ".");
  }
  TrainConfig c;
  c.configText = jsonText;
  for (const auto& k : keyBindings()) {
    if (!k.read) continue;
    const size_t dot = k.path.find('.');
    const json* v = nullptr;
    if (dot == std::string::npos) {
      if (j.contains(k.path)) v = &j[k.path];
    } else {
      const std::string section = k.path.substr(0, dot), key = k.path.substr(dot + 1);
      if (j.contains(section) && j[section].is_object() && j[section].contains(key))
        v = &j[section][key];
    }
    if (v) k.read(*v, c, where);
  }
  checkValues(c, where);
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
