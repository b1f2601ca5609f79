// memoryRaster: the in-memory RasterSource has the same read semantics as the GDAL one.
#include <gtest/gtest.h>

#include <cmath>

#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"

using namespace fieldseg;

namespace {
Raster<float> sample() {
  Raster<float> r(2, 6, 8, 0.0f);
  r.grid = GridSpec(8, 6, {1000, 2, 0, 5000, 0, -2}, Crs());
  for (int b = 0; b < 2; ++b)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 8; ++x) r.at(b, y, x) = static_cast<float>(b * 100 + y * 8 + x);
  r.valid[3] = 0;  // (row 0, col 3)
  r.bandNames = {"red", "nir"};
  return r;
}
}  // namespace

TEST(MemoryRaster, BoundlessReadWithValidity) {
  auto src = memoryRaster(sample());
  ASSERT_EQ(src->bands().size(), 2u);
  EXPECT_EQ(src->bands()[1].name, "nir");
  EXPECT_EQ(src->bands()[1].index, 2);
  Raster<float> r = src->read({-1, -1, 6, 3});
  EXPECT_DOUBLE_EQ(r.grid.geoTransform()[0], 998);
  EXPECT_DOUBLE_EQ(r.grid.geoTransform()[3], 5002);
  EXPECT_EQ(r.bandNames, (std::vector<std::string>{"red", "nir"}));
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 6; ++x) {
      int c = x - 1, rr = y - 1;
      bool ok = c >= 0 && rr >= 0 && !(rr == 0 && c == 3);
      ASSERT_EQ(r.isValid(y, x), ok);
      ASSERT_EQ(r.at(1, y, x), ok ? 100 + rr * 8 + c : 0.0f);
    }
  EXPECT_THROW(src->read({0, 0, 0, 1}), UsageError);
}

TEST(MemoryRaster, DecimatedReadAndDefaults) {
  Raster<float> r(1, 4, 4, 1.0f);  // no grid: pixel space
  auto src = memoryRaster(std::move(r));
  EXPECT_EQ(src->grid().width(), 4);
  EXPECT_EQ(src->bands()[0].name, "band1");
  Raster<float> d = memoryRaster(sample())->readDecimated(4);
  EXPECT_EQ(d.cols, 4);
  EXPECT_EQ(d.rows, 3);
  EXPECT_DOUBLE_EQ(d.grid.resX(), 4.0);
  // Nearest at pixel centres: decimated (0, 1) is source (1, 3) -> row 1, col 3.
  EXPECT_EQ(d.at(0, 0, 1), 1 * 8 + 3);
  EXPECT_THROW(memoryRaster(Raster<float>()), UsageError);
}
