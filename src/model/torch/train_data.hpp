// Internal to src/model: the training data of `fieldseg train`. Chips are read from the manifests
// of `fieldseg labels` and normalised exactly as inference normalises tiles
// (include/fieldseg/normalisation.hpp); the validation split holds out whole source images;
// augment() draws one random crop with flips, rotations, brightness/contrast, GSD rescale and
// sensor degradations. Not thread-safe (the caller owns the random generator).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "net.hpp"

namespace fieldseg::model {

struct Chip {
  torch::Tensor image;  ///< [C,H,W] normalised, invalid pixels 0
  torch::Tensor label;  ///< [4,H,W]: extent, boundary, distance, mask
  std::string sourceImage;
  std::string file;
  double gsdM = 0;
  double labelledFraction = 0;
};

/// Every chip of one manifest, its bands picked (by name) and normalised in `bands` order. Throws
/// IoError (no manifest), DataError (malformed lines, missing bands, mismatched label chips).
std::vector<Chip> readManifest(const std::string& manifest, const std::vector<std::string>& bands);
std::vector<Chip> readManifests(const std::vector<std::string>& manifests,
                                const std::vector<std::string>& bands);

struct TrainData {
  std::vector<Chip> train, val;
  double gsdMin = 1e30, gsdMax = 0;  ///< GSD span the training chips cover (with the GSD rescale)
};

/// Training chips (those with at least min_labelled_fraction labelled), then validation chips:
/// val_manifests plus the chips of held-out source images (val_split), capped at
/// validation.max_chips (an evenly spread, deterministic subset). Throws DataError when no
/// training chip is left.
TrainData loadTrainData(const TrainConfig& cfg);

struct Sample {
  torch::Tensor image, label;
};

/// One augmented crop of `chip` (config `augment.*`, crop_px).
Sample augment(const Chip& chip, const TrainConfig& cfg, std::mt19937_64& rng);

/// The distinct source images of `chips`, sorted.
std::vector<std::string> distinctSources(const std::vector<Chip>& chips);

}  // namespace fieldseg::model
