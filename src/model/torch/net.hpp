// Internal to src/model (and its unit tests): the LibTorch network, the masked loss, pixel scores
// and the model-file container. Everything outside src/model goes through
// include/fieldseg/model.hpp and include/fieldseg/trainer.hpp instead.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fieldseg/trainer.hpp"
#include "model_blob.hpp"

namespace fieldseg::model {

/// conv3x3-BN-ReLU-conv3x3-BN plus a (1x1 conv + BN when channels change) skip, then ReLU.
struct ResBlockImpl : torch::nn::Module {
  /// `project`: use the 1x1 skip projection even when in == out (the input block always does, so
  /// its layout does not depend on the number of input bands).
  ResBlockImpl(int in, int out, bool project = false);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, skipBn{nullptr};
};
TORCH_MODULE(ResBlock);

/// Residual U-Net: enc0 (full resolution) .. enc<depth> (bottleneck), up<i>/dec<i> back to full
/// resolution, head = 1x1 conv to 3 logits (extent, boundary, distance). forward() returns logits;
/// H and W must be multiples of 2^depth (use padToMultiple).
struct ResUNetImpl : torch::nn::Module {
  explicit ResUNetImpl(const NetworkSpec& spec);
  torch::Tensor forward(const torch::Tensor& x);
  NetworkSpec spec;
  std::vector<ResBlock> enc, dec;
  std::vector<torch::nn::ConvTranspose2d> up;
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(ResUNet);

/// Zero-pads [N,C,H,W] at the bottom/right to multiples of m.
torch::Tensor padToMultiple(const torch::Tensor& x, int m);
/// Sigmoid probabilities for any H, W (pads, runs, crops back).
torch::Tensor predictProbabilities(ResUNet& net, const torch::Tensor& x);

/// Inference-only form of a trained ResUNet (eval semantics), built once at load time: every
/// BatchNorm is folded into the convolution before it (w' = w g / sqrt(v + eps),
/// b' = beta - mean g / sqrt(v + eps), computed in double), each 2x2 stride-2 transposed conv
/// becomes a 1x1 conv + pixel_shuffle, and weights and activations use the channels_last layout,
/// so every convolution is one oneDNN call on NHWC data with its bias and no reorders. The ResUNet
/// it was built from is not referenced afterwards; the weights file is unchanged. forward() matches
/// ResUNet::forward in eval mode up to float rounding. Thread-safe for concurrent forward() calls
/// (it holds only immutable tensors).
class FoldedResUNet {
 public:
  /// dtype kFloat32 or kBFloat16: the weights are stored and the convolutions run in it (bf16 runs
  /// on AMX through oneDNN where the CPU has it); input and output probabilities stay float32.
  explicit FoldedResUNet(ResUNet& net, torch::ScalarType dtype = torch::kFloat32);
  /// Logits [N,3,H,W]; H and W must be multiples of 2^depth. Run under InferenceMode/NoGradGuard.
  torch::Tensor forward(const torch::Tensor& x) const;
  /// Sigmoid probabilities for any H, W (pads, runs, crops back), contiguous NCHW.
  torch::Tensor predictProbabilities(const torch::Tensor& x) const;
  const NetworkSpec& spec() const { return spec_; }

 private:
  struct Conv {
    torch::Tensor weight, bias;
    int64_t padding = 0;
    torch::Tensor operator()(const torch::Tensor& x) const;
  };
  struct Block {
    Conv conv1, conv2, skip;
    bool hasSkip = false;
    torch::Tensor operator()(const torch::Tensor& x) const;
  };
  struct Up {
    torch::Tensor weight, bias;  // [out*4, in, 1, 1] 1x1 conv, then pixel_shuffle(2)
    torch::Tensor operator()(const torch::Tensor& x) const;
  };
  NetworkSpec spec_;
  torch::ScalarType dtype_ = torch::kFloat32;
  std::vector<Block> enc_, dec_;
  std::vector<Up> up_;
  Conv head_;
};

/// Tanimoto with complement, per head, restricted to mask == 1 pixels:
/// T(p,l) = sum(m p l) / (sum(m (p^2 + l^2 - p l)) + eps); loss = 1 - (T(p,l) + T(1-p,1-l)) / 2,
/// averaged over samples and heads. prob and target are [N,3,H,W] in [0,1]; mask is [N,1,H,W].
torch::Tensor tanimotoLoss(const torch::Tensor& prob, const torch::Tensor& target,
                           const torch::Tensor& mask);

/// Adds the masked extent confusion counts (prob[:,0] >= thr vs target[:,0] >= 0.5) to `scores`.
void accumulateScores(const torch::Tensor& prob, const torch::Tensor& target,
                      const torch::Tensor& mask, double threshold, PixelScores& scores);

torch::Device parseDevice(const std::string& device);
void setThreads(int threads);

// ---- model file (model_blob.hpp has the container): the ResUNet's weights as a version 2
// weights section, and back (version 1 archives too).
std::string saveWeights(ResUNet& net);
void loadWeights(ResUNet& net, const std::string& weights, const std::string& what);
/// Builds the network stored in a model file (on the CPU, eval mode).
ResUNet loadNetwork(const std::string& path, nlohmann::json* card = nullptr);

}  // namespace fieldseg::model
