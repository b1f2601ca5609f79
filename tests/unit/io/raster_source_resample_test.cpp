// Reads on a resampled grid (OpenOptions::gsdM, src/io/raster_source_resample.cpp): averages that
// match gdal_translate, tiled reads equal to untiled reads, bilinear upsampling, and nodata that
// never leaks into averaged pixels.
#include <gdal.h>

#include <cmath>

#include "fieldseg/raster_source.hpp"
#include "raster_fixtures.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::FixtureBand;
using fieldseg::test::FixtureSpec;
using fieldseg::test::pattern;
using fieldseg::test::TempDir;
using fieldseg::test::writeFixture;

TEST(RasterSource, ResampleHalfResolutionMatchesGdalTranslateAverage) {
  TempDir tmp;
  FixtureSpec s;
  s.width = 101;  // odd: the last column of the coarse grid covers one source column
  s.height = 80;
  s.type = GDT_Float32;
  FixtureBand fb;
  fb.value = [](int c, int r) { return pattern(c, r) + 0.37 * std::sin(c * 0.3 + r * 0.11); };
  s.bands = {fb};
  writeFixture(tmp.file("src.tif"), s);
  auto src = openRaster({tmp.file("src.tif")}, {{}, 20.0});
  EXPECT_EQ(src->grid().width(), 51);
  EXPECT_EQ(src->grid().height(), 40);
  EXPECT_DOUBLE_EQ(src->grid().resX(), 20.0);
  EXPECT_DOUBLE_EQ(src->grid().geoTransform()[0], 500000);

  // Window (10, 6) 24x16 on the coarse grid = source window (20, 12) 48x32.
  PixelWindow w{10, 6, 24, 16};
  Raster<float> r = src->read(w);
  EXPECT_DOUBLE_EQ(r.grid.geoTransform()[0], 500000 + 10 * 20);
  auto ref = fieldseg::test::runShell(
      "gdal_translate -q -ot Float32 -r average -srcwin 20 12 48 32 "
      "-outsize 24 16 '" +
      tmp.file("src.tif") + "' '" + tmp.file("ref.tif") + "'");
  ASSERT_EQ(ref.exitCode, 0) << ref.err;
  Raster<float> expect = openRaster({tmp.file("ref.tif")})->read({0, 0, 24, 16});
  double maxDiff = 0;
  for (size_t i = 0; i < r.data.size(); ++i)
    maxDiff = std::max(maxDiff, static_cast<double>(std::abs(r.data[i] - expect.data[i])));
  EXPECT_LT(maxDiff, 1e-3);
  // And the 2x2 mean by hand for one pixel.
  double mean = 0;
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) mean += fb.value(20 + dx, 12 + dy) / 4;
  EXPECT_NEAR(r.at(0, 0, 0), mean, 1e-4);
  // The ragged last column is the mean of the remaining source column.
  Raster<float> last = src->read({50, 0, 1, 1});
  EXPECT_NEAR(last.at(0, 0, 0), (fb.value(100, 0) + fb.value(100, 1)) / 2, 1e-4);
}

TEST(RasterSource, ResampledTiledReadsEqualUntiledRead) {
  TempDir tmp;
  FixtureSpec s;
  s.width = 103;
  s.height = 77;
  FixtureBand fb;
  fb.value = [](int c, int r) { return (c % 11 == 3 && r % 7 == 2) ? 0 : pattern(c, r); };
  fb.nodata = 0;
  s.bands = {fb};
  writeFixture(tmp.file("src.tif"), s);
  for (double gsd : {20.0, 30.0, 25.0, 5.0}) {
    auto src = openRaster({tmp.file("src.tif")}, {{}, gsd});
    const GridSpec& g = src->grid();
    Raster<float> full = src->read(g.fullWindow());
    int tile = 9;
    for (int ty = 0; ty < g.height(); ty += tile)
      for (int tx = 0; tx < g.width(); tx += tile) {
        Raster<float> t = src->read({tx, ty, tile, tile});
        for (int y = 0; y < tile && ty + y < g.height(); ++y)
          for (int x = 0; x < tile && tx + x < g.width(); ++x) {
            ASSERT_EQ(t.isValid(y, x), full.isValid(ty + y, tx + x)) << gsd;
            ASSERT_NEAR(t.at(0, y, x), full.at(0, ty + y, tx + x), 1e-4)
                << "gsd " << gsd << " at " << tx + x << "," << ty + y;
          }
      }
  }
}

TEST(RasterSource, ResampleFinerIsBilinear) {
  TempDir tmp;
  FixtureSpec s;
  s.type = GDT_Float32;
  FixtureBand fb;
  fb.value = [](int c, int r) { return 3.0 * c + 2.0 * r; };  // bilinear reproduces a plane
  s.bands = {fb};
  writeFixture(tmp.file("ramp.tif"), s);
  auto src = openRaster({tmp.file("ramp.tif")}, {{}, 5.0});
  EXPECT_EQ(src->grid().width(), 80);
  EXPECT_EQ(src->grid().height(), 60);
  Raster<float> r = src->read({10, 10, 40, 30});
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) {
      // Fine pixel centre (x + 10 + 0.5) / 2 in source pixels; source values sit at centres.
      double sc = (x + 10 + 0.5) / 2 - 0.5, sr = (y + 10 + 0.5) / 2 - 0.5;
      ASSERT_NEAR(r.at(0, y, x), 3.0 * sc + 2.0 * sr, 1e-3) << x << "," << y;
    }
}

TEST(RasterSource, NodataNeverLeaksIntoAveragedPixels) {
  TempDir tmp;
  FixtureSpec s;
  FixtureBand fb;
  // Left half nodata (0), right half 1000: an average over a mixed 2x2 block must be 1000 or
  // invalid.
  fb.value = [](int c, int) { return c < 21 ? 0 : 1000; };
  fb.nodata = 0;
  s.bands = {fb};
  writeFixture(tmp.file("half.tif"), s);
  auto src = openRaster({tmp.file("half.tif")}, {{}, 20.0});
  Raster<float> r = src->read(src->grid().fullWindow());
  for (int y = 0; y < r.rows; ++y)
    for (int x = 0; x < r.cols; ++x) {
      ASSERT_EQ(r.isValid(y, x), x >= 10) << x;
      ASSERT_EQ(r.at(0, y, x), x >= 10 ? 1000.0f : 0.0f) << x;
    }
}
