#include "sensor_degrade.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace fieldseg {
namespace model {

torch::Tensor gaussianBlurBands(const torch::Tensor& img, double sigmaPx) {
  namespace F = torch::nn::functional;
  const int64_t c = img.size(0);
  const int64_t r = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigmaPx)));
  std::vector<float> k(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int64_t i = -r; i <= r; ++i)
    sum += k[static_cast<size_t>(i + r)] =
        static_cast<float>(std::exp(-0.5 * static_cast<double>(i * i) / (sigmaPx * sigmaPx)));
  for (auto& v : k) v = static_cast<float>(v / sum);
  torch::Tensor k1 = torch::from_blob(k.data(), {2 * r + 1}, torch::kFloat32).clone();
  torch::Tensor x = img.unsqueeze(0);
  // Replicate padding: the edge pixels repeat, so the crop's border is not darkened.
  x = F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(torch::kReplicate));
  torch::Tensor kh = k1.view({1, 1, 1, 2 * r + 1}).repeat({c, 1, 1, 1});
  torch::Tensor kv = k1.view({1, 1, 2 * r + 1, 1}).repeat({c, 1, 1, 1});
  x = F::conv2d(x, kh, F::Conv2dFuncOptions().groups(c));
  x = F::conv2d(x, kv, F::Conv2dFuncOptions().groups(c));
  return x.squeeze(0);
}

torch::Tensor degradeSensor(torch::Tensor img, const AugmentConfig& a, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u01(0, 1);
  const bool any =
      a.blurProb > 0 || a.bandGain > 0 || a.gamma > 0 || a.hazeProb > 0 || a.noiseStd > 0;
  if (!any) return img;
  const int64_t c = img.size(0);
  torch::Tensor valid = img.ne(0).any(0, true).to(torch::kFloat32);
  if (a.blurProb > 0 && u01(rng) < a.blurProb) {
    const double sigma = 0.3 + u01(rng) * (a.blurSigmaMaxPx - 0.3);
    img = gaussianBlurBands(img, sigma);
  }
  if (a.bandGain > 0 || a.gamma > 0) {
    std::vector<float> gain(static_cast<size_t>(c), 1.0f), gam(static_cast<size_t>(c), 1.0f);
    for (int64_t b = 0; b < c; ++b) {
      gain[static_cast<size_t>(b)] = static_cast<float>(1 + (2 * u01(rng) - 1) * a.bandGain);
      const double lg = std::log1p(a.gamma);
      gam[static_cast<size_t>(b)] = static_cast<float>(std::exp((2 * u01(rng) - 1) * lg));
    }
    torch::Tensor g = torch::from_blob(gain.data(), {c, 1, 1}, torch::kFloat32).clone();
    torch::Tensor e = torch::from_blob(gam.data(), {c, 1, 1}, torch::kFloat32).clone();
    // Gamma on the positive part only (normalised values may be slightly negative).
    torch::Tensor pos = img.clamp_min(0);
    img = torch::where(img > 0, pos.clamp_min(1e-6).pow(e), img) * g;
  }
  if (a.hazeProb > 0 && u01(rng) < a.hazeProb) {
    const double h = u01(rng) * a.hazeMax;
    img = img * (1 - h) + h;
  }
  if (a.noiseStd > 0) {
    const double sd = u01(rng) * a.noiseStd;
    if (sd > 0) {
      at::Generator gen = at::detail::createCPUGenerator(rng());
      img =
          img + torch::randn(img.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32)) * sd;
    }
  }
  return (img.clamp(-1, 2) * valid).contiguous();
}

}  // namespace model
}  // namespace fieldseg
