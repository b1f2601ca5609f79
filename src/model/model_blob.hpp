// Internal to src/model (and src/model/torch): the model-file container and its weights section,
// with no LibTorch, so that inference through the fused engine needs none.
// File: magic "FSGMODEL", u32 version, u64 card length, card, u64 weights length, weights.
// Weights, format version 2: "FSGTENS1" | u64 count | per tensor: u64 name length, name,
// u8 dtype (0 = float32, 1 = int64), u64 rank, rank x u64 sizes, raw little-endian values.
// Version 1 weights are a LibTorch archive (only src/model/torch reads them).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fieldseg/model.hpp"
#include "fieldseg/trainer.hpp"

namespace fieldseg::model {

struct ModelBlob {
  std::string card;     ///< JSON text
  std::string weights;  ///< the weights section (version 2 tensors, or a version 1 archive)
};
ModelBlob readModelBlob(const std::string& path);
void writeModelBlob(const std::string& path, const ModelBlob& blob);  ///< via <path>.tmp + rename
/// The NetworkSpec recorded in a card ("architecture" + "input_bands"). Throws DataError.
NetworkSpec specFromCard(const nlohmann::json& card, const std::string& what);
nlohmann::json architectureJson(const NetworkSpec& spec);
/// The card of a blob as JSON. Throws DataError naming `what` when it is not JSON.
nlohmann::json parseCard(const ModelBlob& blob, const std::string& what);

/// One stored tensor: float32 values (int64 tensors keep their values in `ints`).
struct PlainTensor {
  std::vector<int64_t> sizes;
  std::vector<float> values;
  std::vector<int64_t> ints;
  bool isInt = false;
  int64_t numel() const;
};
/// True when a weights section is in the version 2 (plain tensor) format.
bool isTensorWeights(const std::string& weights);
/// Parses a version 2 weights section. Throws DataError naming `what`.
std::map<std::string, PlainTensor> parseTensorWeights(const std::string& weights,
                                                      const std::string& what);
/// Writes a version 2 weights section; tensors in the given order.
std::string tensorWeights(const std::vector<std::pair<std::string, PlainTensor>>& tensors);

/// The fused engine (onednn_net.hpp) on version 2 weights: `threads` tiles at once, each on one
/// thread. Throws DataError when the weights do not match `spec`.
std::unique_ptr<Predictor> fusedPredictor(const std::map<std::string, PlainTensor>& weights,
                                          const NetworkSpec& spec, const std::string& what,
                                          int threads, bool bf16);

/// What loadModel calls when the fused engine cannot run the request (the reference engine,
/// another device, version 1 weights). src/model/torch registers LibTorch's (enableTorchModels in
/// fieldseg/trainer.hpp); without it such requests are refused with a UsageError.
using TorchLoader = std::unique_ptr<Predictor> (*)(const std::string& path,
                                                   const ModelLoadOptions& options);
void setTorchLoader(TorchLoader loader);
TorchLoader torchLoader();  ///< nullptr until one is set

}  // namespace fieldseg::model
