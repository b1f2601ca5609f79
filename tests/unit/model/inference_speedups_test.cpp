// The inference-only network (FoldedResUNet: batch norms folded into the convolutions,
// channels_last weights) and the Predictor built on it must give the plain eval-mode network's
// probabilities up to float rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "net.hpp"
#include "randomised_net.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using model::ResUNet;

constexpr double kTolerance = 1e-4;

using test::maxAbsDiff;
using test::randomisedNet;

TEST(InferenceSpeedups, FoldedNetworkMatchesPlainNetwork) {
  for (const NetworkSpec& spec :
       {NetworkSpec{}, NetworkSpec{8, 3, {"red", "green", "blue", "nir"}}}) {
    ResUNet net = randomisedNet(spec, 11);
    const model::FoldedResUNet folded(net);
    const int64_t bands = static_cast<int64_t>(spec.inputBands.size());
    // 100 x 84 is not a multiple of 2^depth: exercises the padding and the crop.
    torch::manual_seed(12);
    torch::Tensor x = torch::rand({2, bands, 100, 84}) * 3 - 1;
    c10::InferenceMode guard;
    torch::Tensor ref = model::predictProbabilities(net, x);
    torch::Tensor got = folded.predictProbabilities(x);
    ASSERT_EQ(got.sizes(), ref.sizes());
    EXPECT_TRUE(got.is_contiguous());
    const double diff = maxAbsDiff(ref, got);
    EXPECT_LT(diff, kTolerance) << "width " << spec.width << " depth " << spec.depth;
    // The logits too (the sigmoid flattens differences in its tails).
    torch::Tensor xp = model::padToMultiple(x, 1 << spec.depth);
    EXPECT_LT(maxAbsDiff(net->forward(xp), folded.forward(xp)), 10 * kTolerance);
  }
}

TEST(InferenceSpeedups, PredictorMatchesPlainNetworkOnMaskedTiles) {
  test::TempDir tmp;
  const NetworkSpec spec{16, 4, {"blue", "green", "red", "nir"}};
  ResUNet net = randomisedNet(spec, 21);
  nlohmann::json card = {{"name", "speedups"},
                         {"architecture", model::architectureJson(spec)},
                         {"input_bands", spec.inputBands}};
  const std::string path = tmp.file("m.fsm");
  model::writeModelBlob(path, {card.dump(), model::saveWeights(net)});

  const int rows = 96, cols = 112;
  std::mt19937 rng(22);
  std::uniform_real_distribution<float> u(-1, 2);
  std::vector<Raster<float>> tiles(3, Raster<float>(4, rows, cols));
  for (auto& t : tiles) {
    for (auto& v : t.data) v = u(rng);
    for (size_t k = 0; k < t.valid.size(); k += 7) t.valid[k] = 0;  // some nodata pixels
  }
  for (int threads : {1, 2}) {
    auto predictor = loadModel(path, ModelLoadOptions{"cpu", threads, "fp32"});
    auto out = predictor->predict(tiles);
    ASSERT_EQ(out.size(), tiles.size());
    c10::InferenceMode guard;
    for (size_t i = 0; i < tiles.size(); ++i) {
      // The reference: invalid pixels zeroed, then the plain eval-mode network.
      std::vector<float> in = tiles[i].data;
      const size_t plane = static_cast<size_t>(rows) * cols;
      for (int b = 0; b < 4; ++b)
        for (size_t k = 0; k < plane; ++k)
          if (!tiles[i].valid[k]) in[b * plane + k] = 0.f;
      torch::Tensor ref =
          model::predictProbabilities(net, torch::from_blob(in.data(), {1, 4, rows, cols}));
      ASSERT_EQ(out[i].bands, 3);
      ASSERT_EQ(out[i].rows, rows);
      ASSERT_EQ(out[i].cols, cols);
      EXPECT_EQ(out[i].valid, tiles[i].valid);
      torch::Tensor got = torch::from_blob(out[i].data.data(), {1, 3, rows, cols});
      EXPECT_LT(maxAbsDiff(ref, got), kTolerance) << "tile " << i << " threads " << threads;
    }
  }
}

// bf16 (run on AMX where the CPU has it): the same probabilities up to bf16 rounding (8 bits of
// mantissa through 9 layers), the same size and mask, and its own run is deterministic.
TEST(InferenceSpeedups, Bf16PredictorStaysCloseToFp32) {
  test::TempDir tmp;
  const NetworkSpec spec{16, 4, {"red", "green", "blue"}};
  ResUNet net = randomisedNet(spec, 31);
  nlohmann::json card = {{"name", "bf16"},
                         {"architecture", model::architectureJson(spec)},
                         {"input_bands", spec.inputBands}};
  const std::string path = tmp.file("m.fsm");
  model::writeModelBlob(path, {card.dump(), model::saveWeights(net)});
  Raster<float> tile(3, 72, 88);
  std::mt19937 rng(32);
  std::uniform_real_distribution<float> u(-1, 2);
  for (auto& v : tile.data) v = u(rng);
  for (size_t k = 0; k < tile.valid.size(); k += 11) tile.valid[k] = 0;
  const auto fp32 = loadModel(path, ModelLoadOptions{"cpu", 1, "fp32"})->predict({tile})[0];
  auto bf16Model = loadModel(path, ModelLoadOptions{"cpu", 1, "bf16"});
  const auto bf16 = bf16Model->predict({tile})[0];
  ASSERT_EQ(bf16.data.size(), fp32.data.size());
  EXPECT_EQ(bf16.valid, fp32.valid);
  double maxDiff = 0, sumDiff = 0;
  for (size_t k = 0; k < fp32.data.size(); ++k) {
    const double d = std::abs(double(bf16.data[k]) - fp32.data[k]);
    maxDiff = std::max(maxDiff, d);
    sumDiff += d;
  }
  EXPECT_GT(maxDiff, 0.0) << "bf16 gave fp32's exact bytes: it did not run in bf16";
  EXPECT_LT(maxDiff, 0.05);
  EXPECT_LT(sumDiff / fp32.data.size(), 0.005);
  EXPECT_EQ(bf16Model->predict({tile})[0].data, bf16.data);
}

TEST(InferenceSpeedups, PrecisionNamesResolve) {
  EXPECT_EQ(resolvePrecision({"cpu", 1, "fp32"}), "fp32");
  EXPECT_EQ(resolvePrecision({"cpu", 1, "bf16"}), "bf16");
  EXPECT_EQ(resolvePrecision({"cpu", 1, "auto"}), cpuNativeBf16().empty() ? "fp32" : "bf16");
  EXPECT_EQ(resolvePrecision({"cuda", 1, "auto"}), "fp32");
  EXPECT_THROW(resolvePrecision({"cuda", 1, "bf16"}), UsageError);
  EXPECT_THROW(resolvePrecision({"cpu", 1, "fp16"}), UsageError);
}

}  // namespace
}  // namespace fieldseg
