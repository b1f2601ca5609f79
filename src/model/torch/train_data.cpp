// Training data (train_data.hpp): manifests -> normalised chip tensors, the validation split,
// augmentation.
#include "train_data.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "chip_file.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/normalisation.hpp"
#include "sensor_degrade.hpp"

namespace fieldseg::model {

namespace fs = std::filesystem;
using nlohmann::json;
using torch::indexing::Slice;

namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

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

TrainData loadTrainData(const TrainConfig& cfg) {
  TrainData d;
  d.train = readManifests(cfg.trainManifests, cfg.network.inputBands);
  d.val = readManifests(cfg.valManifests, cfg.network.inputBands);
  std::vector<std::string> sources = distinctSources(d.train);
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
  for (auto& c : d.train) {
    if (holdout.count(c.sourceImage))
      d.val.push_back(std::move(c));
    else if (c.labelledFraction >= cfg.minLabelledFraction)
      keep.push_back(std::move(c));
  }
  d.train = std::move(keep);
  if (d.train.empty())
    throw DataError("model: no training chips left in " +
                    std::to_string(cfg.trainManifests.size()) +
                    " manifest(s) after the validation split and min_labelled_fraction. Check "
                    "val_split and the manifests.");
  if (cfg.valMaxChips > 0 && static_cast<int>(d.val.size()) > cfg.valMaxChips) {
    // Deterministic, spread-out subset.
    std::vector<Chip> sub;
    double stride = static_cast<double>(d.val.size()) / cfg.valMaxChips;
    for (int i = 0; i < cfg.valMaxChips; ++i)
      sub.push_back(std::move(d.val[static_cast<size_t>(i * stride)]));
    d.val = std::move(sub);
  }
  for (const auto& c : d.train) {
    d.gsdMin = std::min(d.gsdMin, c.gsdM);
    d.gsdMax = std::max(
        d.gsdMax, c.gsdM * (cfg.augment.gsdRescaleProb > 0 ? cfg.augment.gsdRescaleMax : 1.0));
  }
  return d;
}

// ---- augmentation ---------------------------------------------------------------------------

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
  if (a.shuffleDates) {
    const int64_t per = timeStackBands(cfg.network.inputBands);
    const int64_t dates = img.size(0) / per;
    std::vector<int64_t> order(static_cast<size_t>(dates));
    for (int64_t d = 0; d < dates; ++d) order[static_cast<size_t>(d)] = d;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<int64_t> idx;
    for (int64_t d : order)
      for (int64_t b = 0; b < per; ++b) idx.push_back(d * per + b);
    img = img.index_select(0, torch::tensor(idx, torch::kLong));
  }
  return {img.contiguous(), lab.contiguous()};
}

std::vector<std::string> distinctSources(const std::vector<Chip>& chips) {
  std::set<std::string> s;
  for (const auto& c : chips) s.insert(c.sourceImage);
  return {s.begin(), s.end()};
}

}  // namespace fieldseg::model
