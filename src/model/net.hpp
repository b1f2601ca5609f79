// Internal to src/model (and its unit tests): the LibTorch network, the masked loss, pixel scores
// and the model-file container. Everything outside src/model goes through
// include/fieldseg/model.hpp and include/fieldseg/trainer.hpp instead.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fieldseg/trainer.hpp"

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

// ---- model file: magic "FSGMODEL", u32 version, u64 card length, card, u64 weights length,
// weights.
struct ModelBlob {
  std::string card;     ///< JSON text
  std::string weights;  ///< torch::save archive of the ResUNet
};
ModelBlob readModelBlob(const std::string& path);
void writeModelBlob(const std::string& path, const ModelBlob& blob);  ///< via <path>.tmp + rename
std::string saveWeights(ResUNet& net);
void loadWeights(ResUNet& net, const std::string& weights, const std::string& what);
/// The NetworkSpec recorded in a card ("architecture" + "input_bands"). Throws DataError.
NetworkSpec specFromCard(const nlohmann::json& card, const std::string& what);
nlohmann::json architectureJson(const NetworkSpec& spec);
/// Builds the network stored in a model file (on the CPU, eval mode).
ResUNet loadNetwork(const std::string& path, nlohmann::json* card = nullptr);

}  // namespace fieldseg::model
