// OneDnnNet: the folded inference network (FoldedResUNet) run directly on oneDNN, the library
// LibTorch itself calls for its CPU convolutions, with the element-wise work folded into the
// convolutions: ReLU and the residual sum as post-ops, the up-sampling's pixel shuffle and the
// skip concatenation as one copy into the decoder's input, every activation buffer of a tile
// allocated once per thread and reused. Activations are NHWC in the network's dtype (bf16 on AMX,
// else fp32). FoldedResUNet stays the reference the tests compare with
// (tests/unit/model/onednn_net_test.cpp).
//
// Thread safety: forward() may run from several threads at once (the primitives are shared and
// immutable, each thread has its own buffers). Each call uses the calling thread's OpenMP thread
// count (TorchPredictor sets 1).
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>

#include "net.hpp"

namespace fieldseg::model {

class OneDnnNet {
 public:
  explicit OneDnnNet(const FoldedResUNet& folded);
  ~OneDnnNet();
  /// Logits [1,3,H,W] float32 for x [1,bands,H,W] float32; H, W multiples of 2^depth. Throws
  /// fieldseg::Error when oneDNN refuses a primitive.
  torch::Tensor forward(const torch::Tensor& x) const;
  /// Sigmoid probabilities for any H, W (pads, runs, crops back), contiguous NCHW, as
  /// FoldedResUNet::predictProbabilities.
  torch::Tensor predictProbabilities(const torch::Tensor& x) const;
  /// False when oneDNN cannot build the network on this CPU (the caller keeps FoldedResUNet).
  static bool available();

 private:
  torch::Tensor run(const torch::Tensor& x) const;  // forward() without the error translation
  struct Plan;                                      // the primitives of one input size
  std::shared_ptr<const Plan> planFor(int64_t h, int64_t w) const;
  struct Weights;
  std::unique_ptr<Weights> weights_;
  int depth_ = 0;
  mutable std::mutex mutex_;
  mutable std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const Plan>> plans_;
};

}  // namespace fieldseg::model
