// [reliability] determinism with the real model (the shipped `smallholder`, LibTorch + oneDNN on
// the CPU), on a 1024 x 1024 synthetic scene. What fieldseg promises (README "Determinism"):
// - the same --threads gives the same probability bytes and the same fields, run after run;
// - another --threads may change probabilities by at most 1/255 (one 8-bit step) at a tiny share
//   of pixels: oneDNN partitions its convolutions by thread count, which changes the float
//   summation order, and a value next to a rounding boundary then flips by one step.
// The test measures both, so a change that made thread counts diverge further would fail it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

namespace {

std::string bytesOf(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(ThreadsDeterminism, RealModelSameThreadsSameBytesOtherThreadsAtMostOneStep) {
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  if (!fs::exists(model)) GTEST_SKIP() << model << " absent";
  test::TempDir dir;
  const std::string img = dir.file("s.tif");
  auto r = test::runCli({"-q", "synth", "--preset", "smallholder", "--size", "1024", "--gsd", "4.8",
                         "--seed", "11", "--out", img, "--truth", dir.file("t.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto run = [&](const std::string& tag, const std::string& threads) {
    const auto res =
        test::runCli({"-q", "delineate", img, "--model", model, "--out", dir.file(tag + ".geojson"),
                      "--probabilities", dir.file(tag + ".tif"), "--threads", threads});
    ASSERT_EQ(res.exitCode, 0) << res.err;
  };
  run("a2", "2");
  run("b2", "2");
  run("a1", "1");
  // Same threads: identical bytes (GeoJSON carries no timestamp).
  EXPECT_EQ(bytesOf(dir.file("a2.geojson")), bytesOf(dir.file("b2.geojson")));
  auto pa = openRaster({dir.file("a2.tif")}), pb = openRaster({dir.file("b2.tif")}),
       p1 = openRaster({dir.file("a1.tif")});
  const PixelWindow all = pa->grid().fullWindow();
  const Raster<float> a = pa->read(all), b = pb->read(all), one = p1->read(all);
  ASSERT_EQ(a.data.size(), one.data.size());
  // The file stores round(p * 255) with GDAL scale 1/255, so read values are p: one step = 1/255.
  ASSERT_DOUBLE_EQ(pa->bands()[0].scale, 1.0 / 255.0);
  ASSERT_GT(*std::max_element(a.data.begin(), a.data.end()), 0.5f);
  EXPECT_EQ(a.data, b.data);
  size_t differ = 0;
  float maxDiff = 0;  // in 8-bit steps
  for (size_t i = 0; i < a.data.size(); ++i) {
    const float d = std::round(std::fabs(a.data[i] - one.data[i]) * 255.0f);
    if (d > 0) ++differ;
    maxDiff = std::max(maxDiff, d);
  }
  std::printf("1 vs 2 threads: %zu of %zu probability values differ, max %.0f step(s)\n", differ,
              a.data.size(), maxDiff);
  EXPECT_LE(maxDiff, 1.0f);  // one 8-bit step
  EXPECT_LE(static_cast<double>(differ), 1e-4 * static_cast<double>(a.data.size()));
}
