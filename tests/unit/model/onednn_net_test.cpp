// The fused oneDNN network (src/model/onednn_net.cpp, weights folded without LibTorch by
// folded_weights.cpp) against its reference, FoldedResUNet (src/model/torch): the
// same probabilities within 1e-4 in fp32 (the [throughput] bar; both fp32 layouts) and within bf16
// rounding in bf16, for networks with and without skip projections, sizes that need padding, and
// two threads at once (each call takes its own arena), and arenas reused or released between tiles.
#include "onednn_net.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>

#include "folded_weights.hpp"
#include "net.hpp"
#include "randomised_net.hpp"

namespace fieldseg {
namespace {

using model::ResUNet;

using test::maxAbsDiff;
using test::randomisedNet;

// The fused engine's weights as loadModel builds them: from the stored tensors, no LibTorch.
model::FoldedWeights foldedWeightsOf(ResUNet& net, bool bf16) {
  return model::foldWeights(model::parseTensorWeights(model::saveWeights(net), "test"), net->spec,
                            bf16, "test");
}

// x [1,bands,H,W] through the fused engine's plain-array interface.
torch::Tensor fusedProbabilities(const model::OneDnnNet& net, const torch::Tensor& x) {
  const torch::Tensor c = x.to(torch::kFloat32).contiguous();
  std::vector<float> p = net.predictProbabilities(c.data_ptr<float>(), c.size(2), c.size(3));
  return torch::from_blob(p.data(), {1, 3, c.size(2), c.size(3)}).clone();
}

// Whether /proc/cpuinfo lists `flag` (e.g. avx512f, amx_bf16).
bool cpuHasFlag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  return false;
}

torch::Tensor fusedLogits(const model::OneDnnNet& net, const torch::Tensor& x) {
  const torch::Tensor c = x.to(torch::kFloat32).contiguous();
  std::vector<float> p = net.forward(c.data_ptr<float>(), c.size(2), c.size(3));
  return torch::from_blob(p.data(), {1, 3, c.size(2), c.size(3)}).clone();
}

// Both fp32 layouts: Auto (blocked nChw16c + Winograd where the CPU has it and the widths are
// multiples of 16; width 8 falls back to NHWC) and NHWC with direct convolutions.
TEST(OneDnnNet, MatchesTheFoldedNetworkInFp32) {
  ASSERT_TRUE(model::OneDnnNet::available());
  for (const NetworkSpec& spec : {NetworkSpec{16, 4, {"blue", "green", "red", "nir"}},
                                  NetworkSpec{8, 3, {"red", "green", "blue"}}}) {
    ResUNet net = randomisedNet(spec, 31);
    const model::FoldedResUNet folded(net, torch::kFloat32);
    for (const auto layout : {model::ActivationLayout::Auto, model::ActivationLayout::Nhwc}) {
      const model::OneDnnNet fused(foldedWeightsOf(net, false), layout);
      const int64_t bands = static_cast<int64_t>(spec.inputBands.size());
      c10::InferenceMode guard;
      for (const auto& [h, w] : {std::pair<int64_t, int64_t>{100, 84}, {64, 128}}) {
        torch::manual_seed(32);
        torch::Tensor x = torch::rand({1, bands, h, w}) * 3 - 1;
        const torch::Tensor ref = folded.predictProbabilities(x);
        const torch::Tensor got = fusedProbabilities(fused, x);
        ASSERT_EQ(got.sizes(), ref.sizes());
        const std::string what = "width " + std::to_string(spec.width) + ", " + std::to_string(h) +
                                 "x" + std::to_string(w) + ", winograd " +
                                 std::to_string(fused.usesWinograd(64, 128));
        EXPECT_LT(maxAbsDiff(ref, got), 1e-4) << what;
        const torch::Tensor xp = model::padToMultiple(x, 1 << spec.depth);
        EXPECT_LT(maxAbsDiff(folded.forward(xp), fusedLogits(fused, xp)), 1e-3) << what;
      }
      if (layout == model::ActivationLayout::Nhwc || spec.width % 16) {
        EXPECT_FALSE(fused.usesWinograd(64, 128));
      }
    }
  }
}

// Where the CPU has AVX-512 (oneDNN's Winograd kernels), the width-16 network uses them in fp32;
// bf16 never does.
TEST(OneDnnNet, Fp32UsesWinogradWhereTheCpuHasIt) {
  if (!cpuHasFlag("avx512f")) GTEST_SKIP() << "no AVX-512 here: fp32 runs NHWC direct convolutions";
  ResUNet net = randomisedNet(NetworkSpec{16, 4, {"blue", "green", "red", "nir"}}, 33);
  EXPECT_TRUE(model::OneDnnNet(foldedWeightsOf(net, false)).usesWinograd(96, 96));
  EXPECT_FALSE(model::OneDnnNet(foldedWeightsOf(net, true)).usesWinograd(96, 96));
}

// Two tiles through one fused network from two threads at once (each call has its own arena of
// activations and scratchpads, the primitives are shared), against the reference in `dtype`.
struct TwoThreadRun {
  torch::Tensor refA, refB, gotA, gotB;
};

TwoThreadRun runFromTwoThreads(bool bf16, std::uint64_t seed,
                               model::ActivationLayout layout = model::ActivationLayout::Auto) {
  const NetworkSpec spec{16, 4, {"blue", "green", "red", "nir"}};
  ResUNet net = randomisedNet(spec, seed);
  const model::FoldedResUNet folded(net, bf16 ? torch::kBFloat16 : torch::kFloat32);
  const model::OneDnnNet fused(foldedWeightsOf(net, bf16), layout);
  c10::InferenceMode guard;
  torch::manual_seed(seed + 1);
  const torch::Tensor a = torch::rand({1, 4, 96, 160}) * 3 - 1;
  const torch::Tensor b = torch::rand({1, 4, 96, 160}) * 3 - 1;
  TwoThreadRun r{folded.predictProbabilities(a), folded.predictProbabilities(b), {}, {}};
  std::thread t1([&] {
    c10::InferenceMode g1;
    for (int i = 0; i < 3; ++i) r.gotA = fusedProbabilities(fused, a);
  });
  std::thread t2([&] {
    c10::InferenceMode g2;
    for (int i = 0; i < 3; ++i) r.gotB = fusedProbabilities(fused, b);
  });
  t1.join();
  t2.join();
  return r;
}

// Both bf16 layouts: Auto (blocked nChw16c where oneDNN's NHWC kernels are not AMX ones, else
// NHWC) and NHWC.
TEST(OneDnnNet, MatchesTheFoldedNetworkInBf16AndFromTwoThreads) {
  for (const auto layout : {model::ActivationLayout::Auto, model::ActivationLayout::Nhwc}) {
    const TwoThreadRun r = runFromTwoThreads(true, 41, layout);
    const std::string what = layout == model::ActivationLayout::Auto ? "auto" : "nhwc";
    // bf16 keeps 8 bits of mantissa: the two implementations round at different places.
    EXPECT_LT(maxAbsDiff(r.refA, r.gotA), 0.03) << what;
    EXPECT_LT(maxAbsDiff(r.refB, r.gotB), 0.03) << what;
    EXPECT_LT((r.refA - r.gotA).abs().mean().item<double>(), 2e-3) << what;
  }
}

// Inputs of 3, 13, 16 and 24 bands (RGB, a Sentinel-2 stack, four and six months of 4 bands), in
// both precisions: the blocked layouts read up to 15 bands as NCHW and reorder more to nChw16c;
// NHWC reorders any count.
TEST(OneDnnNet, MatchesTheFoldedNetworkForAnyBandCount) {
  for (const int bands : {3, 13, 16, 24}) {
    std::vector<std::string> names;
    for (int b = 0; b < bands; ++b) names.push_back("b" + std::to_string(b));
    ResUNet net = randomisedNet(NetworkSpec{16, 4, names}, 49 + bands);
    for (const bool bf16 : {false, true}) {
      const model::FoldedResUNet folded(net, bf16 ? torch::kBFloat16 : torch::kFloat32);
      const model::OneDnnNet fused(foldedWeightsOf(net, bf16));
      c10::InferenceMode guard;
      torch::manual_seed(50 + bands);
      const torch::Tensor x = torch::rand({1, bands, 48, 80}) * 3 - 1;
      const torch::Tensor ref = folded.predictProbabilities(x);
      const torch::Tensor got = fusedProbabilities(fused, x);
      const std::string what =
          std::to_string(bands) + " bands, " + (bf16 ? "bf16 " : "fp32 ") + fused.kernels();
      // Where the CPU has the blocked kernels, every band count keeps the blocked layout.
      const bool blocked = bf16 ? cpuHasFlag("avx512_bf16") && !model::OneDnnNet::bf16UsesAmx()
                                : cpuHasFlag("avx512f");
      if (blocked) {
        EXPECT_NE(fused.kernels().find("nChw16c"), std::string::npos) << what;
      }
      if (bf16) {
        EXPECT_LT(maxAbsDiff(ref, got), 0.03) << what;
        EXPECT_LT((ref - got).abs().mean().item<double>(), 2e-3) << what;
      } else {
        EXPECT_LT(maxAbsDiff(ref, got), 1e-4) << what;
      }
    }
  }
}

// bf16 activations are blocked where oneDNN's NHWC convolutions do not run on AMX (its blocked
// kernels beat NHWC's there), NHWC where they do; kernels() says which.
TEST(OneDnnNet, Bf16LayoutFollowsTheCpu) {
  if (!cpuHasFlag("avx512_bf16") && !cpuHasFlag("amx_bf16"))
    GTEST_SKIP() << "no native bf16 here: --precision auto runs fp32";
  ResUNet net = randomisedNet(NetworkSpec{16, 4, {"blue", "green", "red", "nir"}}, 47);
  const model::OneDnnNet fused(foldedWeightsOf(net, true));
  c10::InferenceMode guard;
  (void)fusedProbabilities(fused, torch::rand({1, 4, 64, 96}));
  // What oneDNN runs on (AMX needs the kernel's permission too, so the flag alone is not enough).
  const bool amx = model::OneDnnNet::bf16UsesAmx();
  if (!cpuHasFlag("amx_bf16")) {
    EXPECT_FALSE(amx) << "oneDNN reports AMX on a CPU without amx_bf16";
  }
  EXPECT_EQ(fused.kernels(),
            std::string("oneDNN bf16 ") + (amx ? "NHWC" : "nChw16c") + ", direct convolutions");
  const model::OneDnnNet nhwc(foldedWeightsOf(net, true), model::ActivationLayout::Nhwc);
  (void)fusedProbabilities(nhwc, torch::rand({1, 4, 64, 96}));
  EXPECT_EQ(nhwc.kernels(), "oneDNN bf16 NHWC, direct convolutions");
}

// The pool of arenas: a larger tile's arena reused by a smaller one, arenas freed between tiles;
// every output the same bytes as the first run of that tile.
TEST(OneDnnNet, ReusedOrReleasedArenasGiveTheSameBytes) {
  ResUNet net = randomisedNet(NetworkSpec{16, 4, {"blue", "green", "red", "nir"}}, 45);
  for (const bool bf16 : {false, true}) {
    const model::OneDnnNet fused(foldedWeightsOf(net, bf16));
    c10::InferenceMode guard;
    torch::manual_seed(46);
    const torch::Tensor big = torch::rand({1, 4, 128, 160}) * 3 - 1;
    const torch::Tensor small = torch::rand({1, 4, 64, 48}) * 3 - 1;
    const torch::Tensor big0 = fusedProbabilities(fused, big);
    const torch::Tensor small0 = fusedProbabilities(fused, small);  // in the big tile's arena
    EXPECT_GE(fused.workspaceBytes(128, 160), fused.workspaceBytes(64, 48));
    fused.releaseWorkspace();
    EXPECT_TRUE(torch::equal(fusedProbabilities(fused, small), small0)) << "bf16 " << bf16;
    EXPECT_TRUE(torch::equal(fusedProbabilities(fused, big), big0)) << "bf16 " << bf16;
  }
}

// fp32: the blocked Winograd layout where the CPU has it.
TEST(OneDnnNet, MatchesTheFoldedNetworkInFp32FromTwoThreads) {
  const TwoThreadRun r = runFromTwoThreads(false, 43);
  EXPECT_LT(maxAbsDiff(r.refA, r.gotA), 1e-4);
  EXPECT_LT(maxAbsDiff(r.refB, r.gotB), 1e-4);
}

TEST(OneDnnNet, ShippedModelGivesTheReferenceProbabilitiesInFp32) {
  ResUNet net = model::loadNetwork(std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm");
  const model::FoldedResUNet folded(net, torch::kFloat32);
  const model::OneDnnNet fused(foldedWeightsOf(net, false));
  c10::InferenceMode guard;
  torch::manual_seed(51);
  const int64_t bands = static_cast<int64_t>(net->spec.inputBands.size());
  const torch::Tensor x = torch::rand({1, bands, 200, 232}) * 3 - 1;
  EXPECT_LT(maxAbsDiff(folded.predictProbabilities(x), fusedProbabilities(fused, x)), 1e-4);
}

}  // namespace
}  // namespace fieldseg
