#include "folded_weights.hpp"

#include <cmath>
#include <cstring>
#include <set>

#include "fieldseg/error.hpp"

namespace fieldseg::model {
namespace {

constexpr double kBatchNormEps = 1e-5;  // torch::nn::BatchNorm2dOptions' default, as trained

// float32 -> bf16 -> float32, round to nearest even (c10::BFloat16's rounding; NaN kept).
float roundBf16(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f)) {
    u = (u & 0xffff0000u) | 0x00400000u;
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
  }
  std::memcpy(&f, &u, 4);
  return f;
}

class Reader {
 public:
  Reader(const std::map<std::string, PlainTensor>& t, bool bf16, const std::string& what)
      : t_(t), bf16_(bf16), what_(what) {}

  const PlainTensor& get(const std::string& name, const std::vector<int64_t>& sizes) {
    auto it = t_.find(name);
    if (it == t_.end()) throw bad("tensor '" + name + "' is missing");
    if (it->second.isInt || it->second.sizes != sizes)
      throw bad("tensor '" + name + "' has another shape");
    used_.insert(name);
    return it->second;
  }
  // The network's dtype: float32, or float32 -> bf16 -> float32.
  float cast(double v) const { return bf16_ ? roundBf16(static_cast<float>(v)) : float(v); }

  // conv `prefix`.weight (no bias) followed by BatchNorm `bn`: one convolution with bias.
  ConvWeights fold(const std::string& conv, const std::string& bn, int64_t out, int64_t in,
                   int64_t k) {
    const PlainTensor& w = get(conv + ".weight", {out, in, k, k});
    const PlainTensor& g = get(bn + ".weight", {out});
    const PlainTensor& beta = get(bn + ".bias", {out});
    const PlainTensor& mean = get(bn + ".running_mean", {out});
    const PlainTensor& var = get(bn + ".running_var", {out});
    used_.insert(bn + ".num_batches_tracked");
    ConvWeights c;
    c.out = out;
    c.in = in;
    c.k = k;
    c.weight.resize(w.values.size());
    c.bias.resize(static_cast<size_t>(out));
    const size_t per = static_cast<size_t>(in * k * k);
    for (int64_t o = 0; o < out; ++o) {
      const double scale = double(g.values[o]) / std::sqrt(double(var.values[o]) + kBatchNormEps);
      for (size_t j = 0; j < per; ++j)
        c.weight[o * per + j] = cast(double(w.values[o * per + j]) * scale);
      c.bias[o] = cast((0.0 - double(mean.values[o])) * scale + double(beta.values[o]));
    }
    return c;
  }

  BlockWeights block(const std::string& name, int64_t in, int64_t out, bool project) {
    BlockWeights b;
    b.conv1 = fold(name + ".conv1", name + ".bn1", out, in, 3);
    b.conv2 = fold(name + ".conv2", name + ".bn2", out, out, 3);
    b.hasSkip = in != out || project;
    if (b.hasSkip) b.skip = fold(name + ".skip", name + ".skip_bn", out, in, 1);
    return b;
  }

  // ConvTranspose2d(in -> out, 2, stride 2) [in, out, 2, 2] as a 1x1 conv to 4 out channels,
  // row (2a + b) out + c = output offset (a, b) of channel c.
  ConvWeights up(const std::string& name, int64_t in, int64_t out) {
    const PlainTensor& w = get(name + ".weight", {in, out, 2, 2});
    const PlainTensor& b = get(name + ".bias", {out});
    ConvWeights c;
    c.out = 4 * out;
    c.in = in;
    c.k = 1;
    c.weight.resize(static_cast<size_t>(4 * out * in));
    c.bias.resize(static_cast<size_t>(4 * out));
    for (int64_t ab = 0; ab < 4; ++ab)
      for (int64_t o = 0; o < out; ++o) {
        const int64_t row = ab * out + o;
        c.bias[row] = cast(b.values[o]);
        for (int64_t i = 0; i < in; ++i)
          c.weight[row * in + i] = cast(w.values[(i * out + o) * 4 + ab]);
      }
    return c;
  }

  ConvWeights head(int64_t in) {
    const PlainTensor& w = get("head.weight", {3, in, 1, 1});
    const PlainTensor& b = get("head.bias", {3});
    ConvWeights c;
    c.out = 3;
    c.in = in;
    c.k = 1;
    for (float v : w.values) c.weight.push_back(cast(v));
    for (float v : b.values) c.bias.push_back(cast(v));
    return c;
  }

  void checkAllUsed() const {
    for (const auto& [name, t] : t_)
      if (!used_.count(name)) throw bad("it holds tensors the network does not have");
  }

 private:
  DataError bad(const std::string& why) const {
    return DataError(
        "model: cannot read the weights of '" + what_ + "': " + why +
        ". The file is corrupt or does not match its card's architecture; retrain it.");
  }
  const std::map<std::string, PlainTensor>& t_;
  bool bf16_;
  std::string what_;
  std::set<std::string> used_;
};

}  // namespace

FoldedWeights foldWeights(const std::map<std::string, PlainTensor>& tensors,
                          const NetworkSpec& spec, bool bf16, const std::string& what) {
  Reader r(tensors, bf16, what);
  FoldedWeights f;
  f.depth = spec.depth;
  f.inputBands = static_cast<int64_t>(spec.inputBands.size());
  f.bf16 = bf16;
  const int64_t w = spec.width;
  f.enc.push_back(r.block("enc0", f.inputBands, w, true));
  for (int i = 1; i <= spec.depth; ++i)
    f.enc.push_back(r.block("enc" + std::to_string(i), w << (i - 1), w << i, false));
  for (int i = 0; i < spec.depth; ++i) {
    const int64_t ci = w << (i + 1), cp = w << i;
    f.up.push_back(r.up("up" + std::to_string(i), ci, cp));
    f.dec.push_back(r.block("dec" + std::to_string(i), 2 * cp, cp, false));
  }
  f.head = r.head(w);
  r.checkAllUsed();
  return f;
}

}  // namespace fieldseg::model
