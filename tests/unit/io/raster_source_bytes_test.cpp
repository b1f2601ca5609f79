// RasterSource::readBytes: on Byte bands with or without a nodata value it gives the stored values
// and the validity read() gives (read()'s values are those bytes through scale/offset), for
// windows inside, across and outside the raster; anything read() must convert or mask is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "fieldseg/raster_source.hpp"
#include "raster_fixtures.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using test::FixtureBand;
using test::FixtureSpec;
using test::TempDir;
using test::writeFixture;

int byteAt(int c, int r, int b) { return (c * 7 + r * 13 + b * 101) % 256; }

FixtureSpec byteBands(std::optional<double> nodata) {
  FixtureSpec s;
  s.type = GDT_Byte;
  for (int b = 0; b < 3; ++b) {
    FixtureBand fb;
    fb.value = [b](int c, int r) { return byteAt(c, r, b); };
    fb.nodata = nodata;
    fb.scale = 1.0 / 254;  // as delineate's probability mosaic
    s.bands.push_back(fb);
  }
  return s;
}

void expectSameAsRead(const RasterSource& src, const PixelWindow& w) {
  std::vector<std::vector<std::uint8_t>> bands;
  std::vector<std::uint8_t> valid;
  ASSERT_TRUE(src.readBytes(w, bands, valid));
  const Raster<float> r = src.read(w);
  ASSERT_EQ(bands.size(), 3u);
  ASSERT_EQ(valid.size(), r.plane());
  for (int y = 0; y < w.height; ++y)
    for (int x = 0; x < w.width; ++x) {
      const size_t i = static_cast<size_t>(y) * w.width + x;
      ASSERT_EQ(valid[i] != 0, r.isValid(y, x)) << x << "," << y;
      for (int b = 0; b < 3; ++b) {
        const auto& info = src.bands()[static_cast<size_t>(b)];
        const float v = valid[i] ? static_cast<float>(bands[b][i] * info.scale + info.offset) : 0;
        ASSERT_EQ(v, r.at(b, y, x)) << "band " << b << " at " << x << "," << y;
        if (!valid[i]) {
          ASSERT_EQ(bands[b][i], 0);
        }
      }
    }
}

TEST(RasterSourceBytes, ByteBandsGiveWhatReadGives) {
  TempDir tmp;
  writeFixture(tmp.file("nodata.tif"), byteBands(7.0));
  writeFixture(tmp.file("plain.tif"), byteBands(std::nullopt));
  // Nodata values no byte holds exactly, but some byte as a float: read() compares floats.
  writeFixture(tmp.file("almost.tif"), byteBands(254.9999999999));
  writeFixture(tmp.file("tiny.tif"), byteBands(1e-50));
  writeFixture(tmp.file("half.tif"), byteBands(7.5));
  for (const char* name : {"nodata.tif", "plain.tif", "almost.tif", "tiny.tif", "half.tif"}) {
    auto src = openRaster({tmp.file(name)});
    expectSameAsRead(*src, src->grid().fullWindow());
    expectSameAsRead(*src, {-5, -3, 20, 20});  // across the top-left corner
    expectSameAsRead(*src, {30, 25, 20, 20});  // across the bottom-right corner
    expectSameAsRead(*src, {100, 100, 4, 4});  // outside: nothing valid
  }
  // Not vacuous: the nodata value occurs and makes pixels invalid.
  auto src = openRaster({tmp.file("nodata.tif")});
  std::vector<std::vector<std::uint8_t>> bands;
  std::vector<std::uint8_t> valid;
  ASSERT_TRUE(src->readBytes(src->grid().fullWindow(), bands, valid));
  EXPECT_GT(std::count(valid.begin(), valid.end(), 0), 10);
}

TEST(RasterSourceBytes, WhatReadMustConvertOrMaskIsRefused) {
  TempDir tmp;
  std::vector<std::vector<std::uint8_t>> bands;
  std::vector<std::uint8_t> valid;
  FixtureSpec u16 = byteBands(std::nullopt);
  u16.type = GDT_UInt16;
  writeFixture(tmp.file("u16.tif"), u16);
  EXPECT_FALSE(openRaster({tmp.file("u16.tif")})->readBytes({0, 0, 4, 4}, bands, valid));
  FixtureSpec masked = byteBands(std::nullopt);
  masked.datasetMask = [](int c, int) { return c > 3; };
  writeFixture(tmp.file("masked.tif"), masked);
  EXPECT_FALSE(openRaster({tmp.file("masked.tif")})->readBytes({0, 0, 4, 4}, bands, valid));
  // Resampled on read (another GSD): read() averages.
  writeFixture(tmp.file("plain.tif"), byteBands(std::nullopt));
  OpenOptions coarser;
  coarser.gsdM = 20;
  EXPECT_FALSE(openRaster({tmp.file("plain.tif")}, coarser)->readBytes({0, 0, 4, 4}, bands, valid));
}

}  // namespace
}  // namespace fieldseg
