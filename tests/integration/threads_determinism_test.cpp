// [reliability] determinism with the real model (the shipped `smallholder`, LibTorch + oneDNN on
// the CPU), on a 1024 x 1024 synthetic scene. What fieldseg promises (README "Determinism"): the
// same probability bytes and the same fields for any --threads, run after run. On the CPU every
// network tile runs on one intra-op thread (tiles run concurrently instead), so oneDNN's
// per-thread partition of a convolution, which changes the float summation order, never varies.
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

TEST(ThreadsDeterminism, RealModelSameBytesForAnyThreadCount) {
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
  // Other threads: identical fields too.
  EXPECT_EQ(bytesOf(dir.file("a2.geojson")), bytesOf(dir.file("a1.geojson")));
  auto pa = openRaster({dir.file("a2.tif")}), pb = openRaster({dir.file("b2.tif")}),
       p1 = openRaster({dir.file("a1.tif")});
  const PixelWindow all = pa->grid().fullWindow();
  const Raster<float> a = pa->read(all), b = pb->read(all), one = p1->read(all);
  ASSERT_EQ(a.data.size(), one.data.size());
  ASSERT_GT(*std::max_element(a.data.begin(), a.data.end()), 0.5f);  // a real, non-empty map
  EXPECT_EQ(a.data, b.data);
  size_t differ = 0;
  for (size_t i = 0; i < a.data.size(); ++i) differ += a.data[i] != one.data[i];
  EXPECT_EQ(differ, 0u) << "1 vs 2 threads: " << differ << " of " << a.data.size()
                        << " probability values differ";
}
