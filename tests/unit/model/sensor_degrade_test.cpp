// Sensor degradations of training crops (src/model/torch/sensor_degrade.hpp).
#include "sensor_degrade.hpp"

#include <gtest/gtest.h>

#include <random>

#include "fieldseg/error.hpp"
#include "fieldseg/trainer.hpp"

namespace fieldseg {
namespace {

using model::degradeSensor;
using torch::indexing::Slice;

torch::Tensor stripes() {
  // 3 bands, 32 x 32: vertical stripes 4 px wide in [0.2, 0.8], an invalid (all-zero) corner.
  torch::Tensor img = torch::zeros({3, 32, 32});
  for (int x = 0; x < 32; ++x) img.index_put_({Slice(), Slice(), x}, (x / 4) % 2 ? 0.8 : 0.2);
  img.index_put_({Slice(), Slice(0, 8), Slice(0, 8)}, 0.0);
  return img;
}

TEST(SensorDegrade, OffByDefaultIsTheIdentity) {
  AugmentConfig a;
  std::mt19937_64 rng(1);
  torch::Tensor img = stripes();
  EXPECT_TRUE(torch::equal(degradeSensor(img, a, rng), img));
}

TEST(SensorDegrade, BlurSoftensEdgesAndKeepsTheMean) {
  torch::Tensor img = stripes().index({Slice(), Slice(8), Slice()}).contiguous();  // all valid
  torch::Tensor b = model::gaussianBlurBands(img, 1.5);
  EXPECT_EQ(b.sizes(), img.sizes());
  // The step between stripes is smaller after blurring; flat regions keep their mean.
  double stepIn = (img.index({0, 0, 4}) - img.index({0, 0, 3})).abs().item<double>();
  double stepOut = (b.index({0, 0, 4}) - b.index({0, 0, 3})).abs().item<double>();
  EXPECT_LT(stepOut, 0.5 * stepIn);
  EXPECT_NEAR(b.mean().item<double>(), img.mean().item<double>(), 0.02);
  // A constant image is unchanged, also at the borders (replicate padding).
  torch::Tensor flat = torch::full({2, 10, 10}, 0.5);
  EXPECT_LT((model::gaussianBlurBands(flat, 2.0) - flat).abs().max().item<double>(), 1e-5);
}

TEST(SensorDegrade, InvalidPixelsStayZeroAndValuesStayInRange) {
  AugmentConfig a;
  a.blurProb = 1;
  a.blurSigmaMaxPx = 2;
  a.bandGain = 0.2;
  a.gamma = 0.3;
  a.hazeProb = 1;
  a.hazeMax = 0.3;
  a.noiseStd = 0.1;
  torch::Tensor img = stripes();
  for (int seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    torch::Tensor d = degradeSensor(img, a, rng);
    ASSERT_EQ(d.sizes(), img.sizes());
    EXPECT_EQ(d.index({Slice(), Slice(0, 8), Slice(0, 8)}).abs().max().item<float>(), 0.f);
    EXPECT_GE(d.min().item<float>(), -1.f);
    EXPECT_LE(d.max().item<float>(), 2.f);
    EXPECT_FALSE(torch::equal(d, img));
  }
}

TEST(SensorDegrade, HazeLiftsDarkValuesAndTheSeedReproduces) {
  AugmentConfig a;
  a.hazeProb = 1;
  a.hazeMax = 0.5;
  torch::Tensor img = stripes();
  torch::Tensor valid = img.index({0, Slice(8), Slice()});
  std::mt19937_64 r1(7), r2(7);
  torch::Tensor d1 = degradeSensor(img, a, r1), d2 = degradeSensor(img, a, r2);
  EXPECT_TRUE(torch::equal(d1, d2));
  // v -> (1-h) v + h with h >= 0: dark stripes (0.2) never get darker, bright ones (0.8) never
  // get brighter than 1; the contrast between them shrinks or stays.
  torch::Tensor dv = d1.index({0, Slice(8), Slice()});
  EXPECT_GE(dv.min().item<float>(), 0.2f - 1e-6f);
  EXPECT_LE(dv.max().item<float>(), 1.0f + 1e-6f);
  EXPECT_LE((dv.max() - dv.min()).item<float>(), (valid.max() - valid.min()).item<float>() + 1e-6f);
}

TEST(SensorDegrade, ConfigRejectsOutOfRangeValues) {
  const char* bads[] = {
      R"({"blur_prob": 1.5})",       R"({"blur_prob": 0.5, "blur_sigma_max_px": 0})",
      R"({"band_gain": 1})",         R"({"gamma": -0.1})",
      R"({"haze_max": 2})",          R"({"noise_std": -1})",
      R"({"blur_sigma_max_px": 20})"};
  for (const char* aug : bads) {
    std::string cfg = std::string(R"({"train_manifests": ["m.jsonl"], "augment": )") + aug + "}";
    EXPECT_THROW(parseTrainConfig(cfg, "test.json"), UsageError) << aug;
  }
  TrainConfig ok = parseTrainConfig(
      R"({"train_manifests": ["m.jsonl"], "augment": {"blur_prob": 0.5, "blur_sigma_max_px": 1.5,
          "band_gain": 0.1, "gamma": 0.2, "haze_prob": 0.3, "haze_max": 0.2, "noise_std": 0.03}})",
      "test.json");
  EXPECT_DOUBLE_EQ(ok.augment.blurSigmaMaxPx, 1.5);
  EXPECT_DOUBLE_EQ(ok.augment.noiseStd, 0.03);
}

}  // namespace
}  // namespace fieldseg
