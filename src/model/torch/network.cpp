// The residual U-Net, the masked Tanimoto loss and the masked pixel scores.
#include <algorithm>
#include <thread>

#include "fieldseg/error.hpp"
#include "net.hpp"

namespace fieldseg::model {

namespace nn = torch::nn;

ResBlockImpl::ResBlockImpl(int in, int out, bool project) {
  conv1 =
      register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(out));
  conv2 =
      register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", nn::BatchNorm2d(out));
  if (in != out || project) {
    skip = register_module("skip", nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)));
    skipBn = register_module("skip_bn", nn::BatchNorm2d(out));
  }
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  torch::Tensor s = skip ? skipBn(skip(x)) : x;
  return torch::relu(y + s);
}

ResUNetImpl::ResUNetImpl(const NetworkSpec& s) : spec(s) {
  const int w = spec.width;
  const int inBands = static_cast<int>(spec.inputBands.size());
  enc.push_back(register_module("enc0", ResBlock(inBands, w, true)));
  for (int i = 1; i <= spec.depth; ++i)
    enc.push_back(register_module("enc" + std::to_string(i), ResBlock(w << (i - 1), w << i)));
  up.resize(spec.depth, nullptr);
  dec.resize(spec.depth, nullptr);
  for (int i = spec.depth; i >= 1; --i) {
    const int ci = w << i, cp = w << (i - 1);
    up[i - 1] =
        register_module("up" + std::to_string(i - 1),
                        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(ci, cp, 2).stride(2)));
    dec[i - 1] = register_module("dec" + std::to_string(i - 1), ResBlock(2 * cp, cp));
  }
  head = register_module("head", nn::Conv2d(nn::Conv2dOptions(w, 3, 1)));
}

torch::Tensor ResUNetImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> skips;
  torch::Tensor y = enc[0](x);
  for (int i = 1; i <= spec.depth; ++i) {
    skips.push_back(y);
    y = enc[i](torch::max_pool2d(y, 2));
  }
  for (int i = spec.depth; i >= 1; --i) {
    y = up[i - 1](y);
    y = dec[i - 1](torch::cat({y, skips[i - 1]}, 1));
  }
  return head(y);
}

torch::Tensor padToMultiple(const torch::Tensor& x, int m) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t ph = (m - h % m) % m, pw = (m - w % m) % m;
  if (ph == 0 && pw == 0) return x;
  return torch::constant_pad_nd(x, {0, pw, 0, ph}, 0);
}

torch::Tensor predictProbabilities(ResUNet& net, const torch::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  torch::Tensor logits = net->forward(padToMultiple(x, 1 << net->spec.depth));
  using torch::indexing::Slice;
  return torch::sigmoid(logits.index({Slice(), Slice(), Slice(0, h), Slice(0, w)}));
}

namespace {

torch::Tensor toF64(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat64); }

// channels_last (NHWC) weights and activations let oneDNN run each convolution on the tensors as
// they are; with NCHW it reorders input, weights and output to its blocked layout on every call.
torch::Tensor channelsLast(const torch::Tensor& t) {
  return t.contiguous(at::MemoryFormat::ChannelsLast);
}

}  // namespace

namespace {
// oneDNN for every CPU float convolution. ATen's own choice sends 1x1 convolutions to its slower
// native kernel when the calling thread has ONE intra-op thread, which is how inference runs
// (torch_model_file.cpp): measured 2x slower per tile on the 2-core host.
torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                   int64_t padding) {
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat && at::hasMKLDNN())
    return at::mkldnn_convolution(x, w, b, {padding, padding}, {1, 1}, {1, 1}, 1);
  return torch::conv2d(x, w, b, 1, padding);
}
}  // namespace

torch::Tensor FoldedResUNet::Conv::operator()(const torch::Tensor& x) const {
  return conv(x, weight, bias, padding);
}

torch::Tensor FoldedResUNet::Block::operator()(const torch::Tensor& x) const {
  torch::Tensor y = conv1(x).relu_();
  y = conv2(y);
  y.add_(hasSkip ? skip(x) : x);
  return y.relu_();
}

torch::Tensor FoldedResUNet::Up::operator()(const torch::Tensor& x) const {
  return torch::pixel_shuffle(conv(x, weight, bias, 0), 2);
}

FoldedResUNet::FoldedResUNet(ResUNet& net, torch::ScalarType dtype)
    : spec_(net->spec), dtype_(dtype) {
  torch::NoGradGuard noGrad;
  // Conv (no bias) followed by an eval-mode BatchNorm -> one conv with bias.
  auto fold = [dtype](const nn::Conv2d& conv, const nn::BatchNorm2d& bn) {
    torch::Tensor scale =
        toF64(bn->weight) / torch::sqrt(toF64(bn->running_var) + bn->options.eps());
    torch::Tensor w = toF64(conv->weight) * scale.view({-1, 1, 1, 1});
    torch::Tensor b = conv->bias.defined() ? toF64(conv->bias) : torch::zeros_like(scale);
    b = (b - toF64(bn->running_mean)) * scale + toF64(bn->bias);
    Conv c;
    c.weight = channelsLast(w.to(dtype));
    c.bias = b.to(dtype).contiguous();
    c.padding = conv->weight.size(2) / 2;
    return c;
  };
  auto block = [&](ResBlock& rb) {
    Block b;
    b.conv1 = fold(rb->conv1, rb->bn1);
    b.conv2 = fold(rb->conv2, rb->bn2);
    b.hasSkip = static_cast<bool>(rb->skip);
    if (b.hasSkip) b.skip = fold(rb->skip, rb->skipBn);
    return b;
  };
  for (auto& e : net->enc) enc_.push_back(block(e));
  for (auto& d : net->dec) dec_.push_back(block(d));
  // LibTorch 1.13 runs a CPU ConvTranspose2d through its slow im2col path (about half of the whole
  // network's time). A 2x2 stride-2 transposed conv touches each output pixel once, so it is a 1x1
  // conv to out*4 channels (channel c*4 + 2a + b = output offset (a, b) of channel c) followed by
  // pixel_shuffle(2), which oneDNN runs fast.
  for (auto& u : net->up) {
    torch::Tensor w = u->weight.detach().to(torch::kCPU, torch::kFloat32);  // [in, out, 2, 2]
    const int64_t in = w.size(0), out = w.size(1);
    Up x;
    x.weight = channelsLast(w.permute({1, 2, 3, 0}).reshape({out * 4, in, 1, 1}).to(dtype));
    x.bias = u->bias.detach().to(torch::kCPU, torch::kFloat32).repeat_interleave(4).to(dtype);
    up_.push_back(x);
  }
  head_.weight = channelsLast(net->head->weight.detach().to(torch::kCPU, dtype));
  head_.bias = net->head->bias.detach().to(torch::kCPU, dtype).contiguous();
  head_.padding = 0;
}

torch::Tensor FoldedResUNet::forward(const torch::Tensor& x) const {
  std::vector<torch::Tensor> skips;
  torch::Tensor y = enc_[0](channelsLast(x.to(dtype_)));
  for (int i = 1; i <= spec_.depth; ++i) {
    skips.push_back(y);
    y = enc_[i](torch::max_pool2d(y, 2));
  }
  for (int i = spec_.depth; i >= 1; --i) {
    y = up_[i - 1](y);
    y = dec_[i - 1](torch::cat({y, skips[i - 1]}, 1));
    skips[i - 1] = torch::Tensor();  // free each skip as soon as it is used
  }
  return head_(y).to(torch::kFloat32);
}

torch::Tensor FoldedResUNet::predictProbabilities(const torch::Tensor& x) const {
  const int64_t h = x.size(2), w = x.size(3);
  torch::Tensor logits = forward(padToMultiple(x, 1 << spec_.depth));
  using torch::indexing::Slice;
  return torch::sigmoid(logits.index({Slice(), Slice(), Slice(0, h), Slice(0, w)})).contiguous();
}

torch::Tensor tanimotoLoss(const torch::Tensor& prob, const torch::Tensor& target,
                           const torch::Tensor& mask) {
  constexpr double kEps = 1e-5;
  const std::vector<int64_t> dims{2, 3};
  auto tanimoto = [&](const torch::Tensor& p, const torch::Tensor& l) {
    torch::Tensor pl = (mask * p * l).sum(dims);
    torch::Tensor denom = (mask * (p * p + l * l - p * l)).sum(dims);
    return (pl + kEps) / (denom + kEps);
  };
  torch::Tensor t = tanimoto(prob, target);
  torch::Tensor tc = tanimoto(1 - prob, 1 - target);
  return (1 - 0.5 * (t + tc)).mean();
}

void accumulateScores(const torch::Tensor& prob, const torch::Tensor& target,
                      const torch::Tensor& mask, double threshold, PixelScores& scores) {
  using torch::indexing::Slice;
  torch::Tensor p = prob.index({Slice(), 0}).ge(threshold).to(torch::kCPU);
  torch::Tensor l = target.index({Slice(), 0}).ge(0.5).to(torch::kCPU);
  torch::Tensor m = mask.index({Slice(), 0}).ge(0.5).to(torch::kCPU);
  scores.tp += (p & l & m).sum().item<int64_t>();
  scores.fp += (p & ~l & m).sum().item<int64_t>();
  scores.fn += (~p & l & m).sum().item<int64_t>();
  scores.tn += (~p & ~l & m).sum().item<int64_t>();
}

torch::Device parseDevice(const std::string& device) {
  if (device.empty() || device == "cpu") return torch::Device(torch::kCPU);
  if (device.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw UsageError(
          "model: device '" + device +
          "' is not available: this LibTorch build or host has no CUDA. Use --device cpu.");
    try {
      return torch::Device(device);
    } catch (const c10::Error&) {
      throw UsageError("model: device '" + device +
                       "' is not a device name. Use cpu, cuda or cuda:N.");
    }
  }
  throw UsageError("model: device '" + device + "' is not a device name. Use cpu, cuda or cuda:N.");
}

void setThreads(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  at::set_num_threads(std::max(1, n));
}

}  // namespace fieldseg::model
