// Internal to src/model: the inference form of a trained ResUNet as plain arrays, built from the
// stored tensors (model_blob.hpp) with no LibTorch. Every BatchNorm is folded into the convolution
// before it (w' = w g / sqrt(v + eps), b' = beta - mean g / sqrt(v + eps), in double, eps 1e-5 as
// the network's BatchNorm2d), each 2x2 stride-2 transposed convolution becomes a 1x1 convolution to
// 4 c channels ordered (a, b, c): output pixel (2h + a, 2w + b) takes one run of c channels. With
// bf16 every weight and bias is rounded to bf16 (round to nearest even, through float32) as
// FoldedResUNet does, so both engines start from the same numbers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model_blob.hpp"

namespace fieldseg::model {

struct ConvWeights {
  std::vector<float> weight;  ///< OIHW
  std::vector<float> bias;    ///< out
  int64_t out = 0, in = 0, k = 1;
};

struct BlockWeights {
  ConvWeights conv1, conv2, skip;
  bool hasSkip = false;
};

struct FoldedWeights {
  int depth = 0;
  int64_t inputBands = 0;
  bool bf16 = false;
  std::vector<BlockWeights> enc, dec;  ///< enc0 .. enc<depth>; dec0 .. dec<depth-1>
  std::vector<ConvWeights> up;         ///< up0 .. up<depth-1>, rows ordered (a, b, c)
  ConvWeights head;
};

/// Throws DataError naming `what` when a tensor is missing, has another shape, or is left over
/// (other than BatchNorm's step counters).
FoldedWeights foldWeights(const std::map<std::string, PlainTensor>& tensors,
                          const NetworkSpec& spec, bool bf16, const std::string& what);

}  // namespace fieldseg::model
