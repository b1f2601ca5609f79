// computeStats: percentiles, mean and std over valid pixels only (nodata never pollutes them).
#include <gdal.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "fieldseg/raster_source.hpp"
#include "raster_fixtures.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::FixtureBand;
using fieldseg::test::FixtureSpec;
using fieldseg::test::TempDir;
using fieldseg::test::writeFixture;

namespace {

// Valid pixels hold a shuffled 1..N; with linear interpolation between order statistics the
// q-th percentile of 1..N is 1 + q/100 * (N - 1), the mean (N + 1) / 2 and the population std
// sqrt((N^2 - 1) / 12).
constexpr int kW = 200, kH = 100;  // right half valid: N = 10000
std::vector<int> shuffledValues() {
  std::vector<int> v(kW / 2 * kH);
  std::iota(v.begin(), v.end(), 1);
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  return v;
}

void expectUniformStats(const BandStats& s, int n) {
  EXPECT_EQ(s.validCount, n);
  EXPECT_NEAR(s.p2, 1 + 0.02 * (n - 1), 1e-6);
  EXPECT_NEAR(s.p98, 1 + 0.98 * (n - 1), 1e-6);
  EXPECT_NEAR(s.mean, (n + 1) / 2.0, 1e-6);
  EXPECT_NEAR(s.std, std::sqrt((static_cast<double>(n) * n - 1) / 12.0), 1e-6);
}

}  // namespace

TEST(Stats, PercentilesIgnoreNodataOnAHalfNodataRaster) {
  TempDir tmp;
  auto vals = shuffledValues();
  FixtureSpec s;
  s.width = kW;
  s.height = kH;
  s.type = GDT_Int32;
  FixtureBand b;
  // Left half nodata (-9999: far outside the data so any leak would move p2 and the mean).
  b.value = [&](int c, int r) { return c < kW / 2 ? -9999 : vals[r * (kW / 2) + (c - kW / 2)]; };
  b.nodata = -9999;
  s.bands = {b};
  writeFixture(tmp.file("half.tif"), s);
  auto stats = computeStats(*openRaster({tmp.file("half.tif")}), 1024);
  ASSERT_EQ(stats.size(), 1u);
  expectUniformStats(stats[0], kW / 2 * kH);

  // Control: the same pixels without a declared nodata are all counted, and p2 drops to -9999.
  s.bands[0].nodata.reset();
  writeFixture(tmp.file("nonodata.tif"), s);
  auto polluted = computeStats(*openRaster({tmp.file("nonodata.tif")}), 1024);
  EXPECT_EQ(polluted[0].validCount, kW * kH);
  EXPECT_EQ(polluted[0].p2, -9999);
}

TEST(Stats, MaskBandAndMemoryValidityAreHonoured) {
  TempDir tmp;
  auto vals = shuffledValues();
  FixtureSpec s;
  s.width = kW;
  s.height = kH;
  s.type = GDT_Int32;
  FixtureBand b;
  b.value = [&](int c, int r) { return c < kW / 2 ? 0 : vals[r * (kW / 2) + (c - kW / 2)]; };
  s.bands = {b};
  s.datasetMask = [](int c, int) { return c >= kW / 2; };
  writeFixture(tmp.file("masked.tif"), s);
  expectUniformStats(computeStats(*openRaster({tmp.file("masked.tif")}), 1024)[0], kW / 2 * kH);

  Raster<float> r(1, kH, kW, 0.0f);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      r.at(0, y, x) = static_cast<float>(b.value(x, y));
      r.valid[static_cast<size_t>(y) * kW + x] = x >= kW / 2;
    }
  expectUniformStats(computeStats(*memoryRaster(std::move(r)), 1024)[0], kW / 2 * kH);
}

TEST(Stats, DecimatedSampleStaysCloseAndAllInvalidGivesZeros) {
  TempDir tmp;
  auto vals = shuffledValues();
  FixtureSpec s;
  s.width = kW;
  s.height = kH;
  s.type = GDT_Int32;
  FixtureBand b;
  b.value = [&](int c, int r) { return c < kW / 2 ? 0 : vals[r * (kW / 2) + (c - kW / 2)]; };
  b.nodata = 0;
  s.bands = {b};
  writeFixture(tmp.file("half.tif"), s);
  // A 4x decimated sample of a shuffled uniform set keeps its percentiles within a few percent.
  auto st = computeStats(*openRaster({tmp.file("half.tif")}), kW / 4);
  EXPECT_EQ(st[0].validCount, (kW / 4 / 2) * (kH / 4));
  EXPECT_NEAR(st[0].p2, 200.98, 150);
  EXPECT_NEAR(st[0].p98, 9800.02, 150);
  EXPECT_NEAR(st[0].mean, 5000.5, 300);

  Raster<float> none(2, 10, 10, 5.0f);
  std::fill(none.valid.begin(), none.valid.end(), 0);
  auto z = computeStats(*memoryRaster(std::move(none)));
  ASSERT_EQ(z.size(), 2u);
  EXPECT_EQ(z[1].validCount, 0);
  EXPECT_EQ(z[1].p2, 0);
  EXPECT_EQ(z[1].p98, 0);
}
