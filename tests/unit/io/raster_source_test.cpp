// openRaster on synthetic GeoTIFFs: values and types, nodata / mask / alpha validity, scale/offset,
// boundless reads, band selection, stacking, overviews, metadata, errors, and concurrent reads.
// The naming/selection rules: raster_source_detail_test.cpp; reads on a resampled grid:
// raster_source_resample_test.cpp.
#include "fieldseg/raster_source.hpp"

#include <gdal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "fieldseg/error.hpp"
#include "raster_fixtures.hpp"
#include "raster_source_detail.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::FixtureBand;
using fieldseg::test::FixtureSpec;
using fieldseg::test::messageOf;
using fieldseg::test::pattern;
using fieldseg::test::TempDir;
using fieldseg::test::writeFixture;

namespace {

FixtureSpec threeBand() {
  FixtureSpec s;
  for (int b = 0; b < 3; ++b) {
    FixtureBand fb;
    fb.value = [b](int c, int r) { return pattern(c, r, b); };
    s.bands.push_back(fb);
  }
  s.bands[0].description = "Blue";
  s.bands[1].description = "B03";
  s.bands[2].description = "near-infrared";
  return s;
}

}  // namespace

TEST(RasterSource, ReadsValuesAndNamesAndGrid) {
  TempDir tmp;
  std::string path = tmp.file("a.tif");
  writeFixture(path, threeBand());
  auto src = openRaster({path});
  EXPECT_EQ(src->grid().width(), 40);
  EXPECT_EQ(src->grid().height(), 30);
  EXPECT_EQ(src->grid().crs().epsg(), 32633);
  EXPECT_DOUBLE_EQ(src->grid().gsdMeters(), 10.0);
  ASSERT_EQ(src->bands().size(), 3u);
  EXPECT_EQ(src->bands()[0].name, "blue");
  EXPECT_EQ(src->bands()[1].name, "b03");
  EXPECT_EQ(src->bands()[2].name, "nir");
  EXPECT_EQ(src->bands()[0].dataType, "UInt16");
  EXPECT_EQ(src->bands()[0].file, path);
  Raster<float> r = src->read({5, 4, 10, 8});
  ASSERT_EQ(r.bands, 3);
  EXPECT_EQ(r.grid.geoTransform()[0], 500000 + 5 * 10);
  EXPECT_EQ(r.grid.geoTransform()[3], 4000000 - 4 * 10);
  EXPECT_EQ(r.bandNames, (std::vector<std::string>{"blue", "b03", "nir"}));
  for (int b = 0; b < 3; ++b)
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 10; ++x) {
        ASSERT_EQ(r.at(b, y, x), pattern(x + 5, y + 4, b));
        ASSERT_TRUE(r.isValid(y, x));
      }
}

TEST(RasterSource, NodataScaleOffsetAndTypes) {
  TempDir tmp;
  FixtureSpec s;
  s.type = GDT_Int16;
  FixtureBand a;  // Int16 with negative values, nodata -9999, scale/offset
  a.value = [](int c, int r) { return (c + r) % 5 == 0 ? -9999 : c - r - 10; };
  a.nodata = -9999;
  a.scale = 0.5;
  a.offset = 3;
  FixtureBand b;
  b.value = [](int c, int r) { return c * 100 + r; };
  s.bands = {a, b};
  writeFixture(tmp.file("i16.tif"), s);
  auto src = openRaster({tmp.file("i16.tif")});
  EXPECT_EQ(src->bands()[0].nodata, -9999.0);
  // GeoTIFF has one nodata value for all bands.
  EXPECT_EQ(src->bands()[1].nodata, -9999.0);
  Raster<float> r = src->read(src->grid().fullWindow());
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x) {
      bool nod = (x + y) % 5 == 0;
      ASSERT_EQ(r.isValid(y, x), !nod);
      // Invalid pixels are 0 in every band, valid ones get scale/offset.
      ASSERT_EQ(r.at(0, y, x), nod ? 0.0f : static_cast<float>((x - y - 10) * 0.5 + 3));
      ASSERT_EQ(r.at(1, y, x), nod ? 0.0f : static_cast<float>(x * 100 + y));
    }

  // Float32 with NaN nodata.
  FixtureSpec f;
  f.type = GDT_Float32;
  FixtureBand fb;
  fb.value = [](int c, int r) { return c == r ? std::nan("") : c * 0.25 - r; };
  fb.nodata = std::nan("");
  f.bands = {fb};
  writeFixture(tmp.file("f32.tif"), f);
  Raster<float> rf = openRaster({tmp.file("f32.tif")})->read({0, 0, 10, 10});
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) {
      ASSERT_EQ(rf.isValid(y, x), x != y);
      ASSERT_EQ(rf.at(0, y, x), x == y ? 0.0f : static_cast<float>(x * 0.25 - y));
    }
}

// [reliability]: NaN / Inf in a float raster WITHOUT a nodata value are invalid pixels too, on the
// native and on the resampled path, so they never reach statistics or the network.
TEST(RasterSource, NanAndInfWithoutNodataAreInvalid) {
  TempDir tmp;
  FixtureSpec f;
  f.type = GDT_Float32;
  FixtureBand fb;
  fb.value = [](int c, int r) {
    if (c < 3 && r < 3) return std::nan("");
    if (c == 7 && r == 7) return HUGE_VAL;
    if (c == 8 && r == 2) return -HUGE_VAL;
    return c * 0.5 + r;
  };
  f.bands = {fb};
  writeFixture(tmp.file("nan.tif"), f);
  auto src = openRaster({tmp.file("nan.tif")});
  ASSERT_FALSE(src->bands()[0].nodata.has_value());
  Raster<float> r = src->read(src->grid().fullWindow());
  int invalid = 0;
  for (int y = 0; y < r.rows; ++y)
    for (int x = 0; x < r.cols; ++x) {
      const bool bad = (x < 3 && y < 3) || (x == 7 && y == 7) || (x == 8 && y == 2);
      ASSERT_EQ(r.isValid(y, x), !bad) << x << "," << y;
      ASSERT_TRUE(std::isfinite(r.at(0, y, x)));
      invalid += bad;
    }
  EXPECT_EQ(invalid, 11);
  // Resampled to 2x the GSD: every output pixel is finite, and the all-NaN corner is invalid.
  OpenOptions o;
  o.gsdM = 20;  // the fixture has 10 m pixels
  Raster<float> h = openRaster({tmp.file("nan.tif")}, o)->read({0, 0, 4, 4});
  for (float v : h.data) ASSERT_TRUE(std::isfinite(v));
  EXPECT_FALSE(h.isValid(0, 0));
  EXPECT_TRUE(h.isValid(3, 3));
}

TEST(RasterSource, BoundlessReadPadsWithInvalidZeros) {
  TempDir tmp;
  std::string path = tmp.file("a.tif");
  writeFixture(path, threeBand());
  auto src = openRaster({path});
  PixelWindow w{-3, -2, 12, 9};
  Raster<float> r = src->read(w);
  EXPECT_EQ(r.grid.geoTransform()[0], 500000 - 3 * 10);
  EXPECT_EQ(r.grid.geoTransform()[3], 4000000 + 2 * 10);
  for (int y = 0; y < w.height; ++y)
    for (int x = 0; x < w.width; ++x) {
      int c = x + w.x, rr = y + w.y;
      bool inside = c >= 0 && rr >= 0;
      ASSERT_EQ(r.isValid(y, x), inside);
      for (int b = 0; b < 3; ++b) ASSERT_EQ(r.at(b, y, x), inside ? pattern(c, rr, b) : 0.0);
    }
  // Across the bottom-right corner.
  Raster<float> br = src->read({35, 25, 10, 10});
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) ASSERT_EQ(br.isValid(y, x), x < 5 && y < 5);
  // Entirely outside: all invalid, all zero.
  Raster<float> out = src->read({100, 100, 4, 4});
  for (size_t i = 0; i < out.valid.size(); ++i) ASSERT_EQ(out.valid[i], 0);
  for (float v : out.data) ASSERT_EQ(v, 0.0f);
  EXPECT_THROW(src->read({0, 0, 0, 5}), UsageError);
  EXPECT_THROW(src->read({0, 0, 5, -1}), UsageError);
}

TEST(RasterSource, AlphaBandBecomesMaskAndIsNotSelectedByDefault) {
  TempDir tmp;
  FixtureSpec s;
  s.type = GDT_Byte;
  for (int b = 0; b < 3; ++b) {
    FixtureBand fb;
    fb.value = [b](int c, int r) { return pattern(c, r, b); };
    fb.colorInterp = static_cast<GDALColorInterp>(GCI_RedBand + b);
    s.bands.push_back(fb);
  }
  FixtureBand alpha;
  alpha.value = [](int c, int) { return c < 10 ? 0 : 255; };
  alpha.colorInterp = GCI_AlphaBand;
  s.bands.push_back(alpha);
  writeFixture(tmp.file("rgba.tif"), s);
  auto src = openRaster({tmp.file("rgba.tif")});
  ASSERT_EQ(src->bands().size(), 3u);
  EXPECT_EQ(src->bands()[0].name, "red");
  EXPECT_EQ(src->bands()[2].name, "blue");
  Raster<float> r = src->read(src->grid().fullWindow());
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x) {
      ASSERT_EQ(r.isValid(y, x), x >= 10);
      ASSERT_EQ(r.at(1, y, x), x >= 10 ? pattern(x, y, 1) : 0.0);
    }
  // Alpha can still be asked for by name.
  auto withAlpha = openRaster({tmp.file("rgba.tif")}, {{"alpha"}, 0});
  EXPECT_EQ(withAlpha->bands()[0].name, "alpha");
}

TEST(RasterSource, DatasetMaskBandBecomesValidity) {
  TempDir tmp;
  FixtureSpec s = threeBand();
  s.datasetMask = [](int c, int r) { return !(c > 20 && r > 10); };
  writeFixture(tmp.file("masked.tif"), s);
  auto src = openRaster({tmp.file("masked.tif")});
  Raster<float> r = src->read({15, 5, 20, 20});
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x) {
      bool ok = !(x + 15 > 20 && y + 5 > 10);
      ASSERT_EQ(r.isValid(y, x), ok) << x << "," << y;
      ASSERT_EQ(r.at(0, y, x), ok ? pattern(x + 15, y + 5, 0) : 0.0);
    }
}

TEST(RasterSource, SelectsBandsByNameOrIndexInTheGivenOrder) {
  TempDir tmp;
  writeFixture(tmp.file("a.tif"), threeBand());
  auto src = openRaster({tmp.file("a.tif")}, {{"NIR", "blue", "2"}, 0});
  ASSERT_EQ(src->bands().size(), 3u);
  EXPECT_EQ(src->bands()[0].name, "nir");
  EXPECT_EQ(src->bands()[0].index, 3);
  EXPECT_EQ(src->bands()[1].name, "blue");
  EXPECT_EQ(src->bands()[2].name, "b03");
  Raster<float> r = src->read({0, 0, 4, 4});
  EXPECT_EQ(r.at(0, 1, 2), pattern(2, 1, 2));
  EXPECT_EQ(r.at(1, 1, 2), pattern(2, 1, 0));
  EXPECT_EQ(r.at(2, 1, 2), pattern(2, 1, 1));
  std::string msg = messageOf([&] { openRaster({tmp.file("a.tif")}, {{"red"}, 0}); });
  EXPECT_NE(msg.find("no band 'red'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1:blue, 2:b03, 3:nir ('near-infrared')"), std::string::npos) << msg;
  EXPECT_THROW(openRaster({tmp.file("a.tif")}, {{"red"}, 0}), UsageError);
}

TEST(RasterSource, StacksSingleBandFilesNamedByBandCode) {
  TempDir tmp;
  std::vector<std::string> paths;
  for (int b = 0; b < 4; ++b) {
    FixtureSpec s;
    FixtureBand fb;
    fb.value = [b](int c, int r) { return (c + r) % 9 == 0 ? 0 : pattern(c, r, b); };
    fb.nodata = 0;
    fb.colorInterp = GCI_GrayIndex;
    s.bands = {fb};
    paths.push_back(tmp.file("B0" + std::to_string(b + 1) + ".tif"));
    writeFixture(paths.back(), s);
  }
  auto src = openRaster(paths);
  ASSERT_EQ(src->bands().size(), 4u);
  std::vector<std::string> names;
  for (const auto& b : src->bands()) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blue", "green", "red", "nir"}));
  EXPECT_EQ(src->bands()[3].file, paths[3]);
  Raster<float> r = src->read(src->grid().fullWindow());
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x)
      for (int b = 0; b < 4; ++b) {
        bool nod = (x + y) % 9 == 0;
        ASSERT_EQ(r.isValid(y, x), !nod);
        ASSERT_EQ(r.at(b, y, x), nod ? 0.0 : pattern(x, y, b));
      }
  // File-name selection works too.
  auto sel = openRaster(paths, {{"b04", "Red"}, 0});
  EXPECT_EQ(sel->bands()[0].name, "nir");
  EXPECT_EQ(sel->bands()[1].name, "red");

  // A file on another grid cannot be stacked.
  FixtureSpec shifted;
  shifted.geoTransform[0] += 10;
  FixtureBand fb;
  fb.value = [](int, int) { return 1; };
  shifted.bands = {fb};
  writeFixture(tmp.file("B05.tif"), shifted);
  EXPECT_THROW(openRaster({paths[0], tmp.file("B05.tif")}), DataError);
  FixtureSpec otherCrs = shifted;
  otherCrs.geoTransform[0] -= 10;
  otherCrs.srs = "EPSG:32634";
  writeFixture(tmp.file("B06.tif"), otherCrs);
  EXPECT_THROW(openRaster({paths[0], tmp.file("B06.tif")}), DataError);
}

TEST(RasterSource, ErrorsAreClearFieldsegErrors) {
  TempDir tmp;
  std::string msg = messageOf([&] { openRaster({tmp.file("missing.tif")}); });
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
  EXPECT_THROW(openRaster({tmp.file("missing.tif")}), IoError);

  std::ofstream(tmp.file("notes.tif")) << "this is not a raster\n";
  msg = messageOf([&] { openRaster({tmp.file("notes.tif")}); });
  EXPECT_NE(msg.find("io: cannot open raster"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_THROW(openRaster({tmp.file("notes.tif")}), IoError);

  std::ofstream(tmp.file("f.geojson"))
      << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},)"
      << R"("geometry":{"type":"Point","coordinates":[30.3,-1.5]}}]})";
  msg = messageOf([&] { openRaster({tmp.file("f.geojson")}); });
  EXPECT_NE(msg.find("is a vector dataset, not a raster"), std::string::npos) << msg;
  EXPECT_THROW(openRaster({tmp.file("f.geojson")}), DataError);

  FixtureSpec s = threeBand();
  s.georeferenced = false;
  writeFixture(tmp.file("nogeo.tif"), s);
  msg = messageOf([&] { openRaster({tmp.file("nogeo.tif")}); });
  EXPECT_NE(msg.find("no georeferencing"), std::string::npos) << msg;
  EXPECT_THROW(openRaster({tmp.file("nogeo.tif")}), DataError);

  EXPECT_THROW(openRaster({}), UsageError);
  writeFixture(tmp.file("ok.tif"), threeBand());
  EXPECT_THROW(openRaster({tmp.file("ok.tif")}, {{}, -1}), UsageError);
}

TEST(RasterSource, DatetimeFromTiffTag) {
  TempDir tmp;
  FixtureSpec s = threeBand();
  s.metadata = {{"TIFFTAG_DATETIME", "2021:03:15 10:20:30"}};
  writeFixture(tmp.file("dt.tif"), s);
  // ISO 8601 in UTC, as fiboa wants it (a TIFF tag has no zone: read as UTC).
  EXPECT_EQ(openRaster({tmp.file("dt.tif")})->datetime(), "2021-03-15T10:20:30Z");
  writeFixture(tmp.file("nodt.tif"), threeBand());
  EXPECT_EQ(openRaster({tmp.file("nodt.tif")})->datetime(), "");
}

TEST(RasterSource, OpensVsizipPaths) {
  TempDir tmp;
  writeFixture(tmp.file("a.tif"), threeBand());
  auto z = fieldseg::test::runShell("cd '" + tmp.path() + "' && zip -q a.zip a.tif");
  if (z.exitCode != 0) GTEST_SKIP() << "zip is not installed: " << z.err;
  auto src = openRaster({"/vsizip/" + tmp.file("a.zip") + "/a.tif"});
  Raster<float> r = src->read({1, 2, 3, 3});
  EXPECT_EQ(r.at(2, 1, 1), pattern(2, 3, 2));
}

// Resampling to a coarser GSD agrees with gdal_translate -r average of the same window (an
// independent code path: a VRT with resampled sources), within 1e-3 on values of 100..196.
TEST(RasterSource, DecimatedReadUsesOverviews) {
  TempDir tmp;
  FixtureSpec s;
  s.width = 64;
  s.height = 48;
  s.type = GDT_Byte;
  FixtureBand fb;
  fb.value = [](int c, int r) { return pattern(c, r); };
  s.bands = {fb};
  std::string path = tmp.file("ovr.tif");
  writeFixture(path, s);
  // Build a 2x overview, then overwrite it with a marker value only the overview holds.
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_Update);
  int levels[] = {2};
  ASSERT_EQ(GDALBuildOverviews(ds, "NEAREST", 1, levels, 0, nullptr, nullptr, nullptr), CE_None);
  GDALRasterBandH ovr = GDALGetOverview(GDALGetRasterBand(ds, 1), 0);
  std::vector<unsigned char> marker(32 * 24, 7);
  ASSERT_EQ(GDALRasterIO(ovr, GF_Write, 0, 0, 32, 24, marker.data(), 32, 24, GDT_Byte, 0, 0),
            CE_None);
  GDALClose(ds);

  auto src = openRaster({path});
  Raster<float> d = src->readDecimated(32);
  EXPECT_EQ(d.cols, 32);
  EXPECT_EQ(d.rows, 24);
  EXPECT_DOUBLE_EQ(d.grid.resX(), 20.0);
  for (float v : d.data) ASSERT_EQ(v, 7.0f);
  // Full-resolution reads still see the real pixels.
  EXPECT_EQ(src->read({3, 4, 1, 1}).at(0, 0, 0), pattern(3, 4));
  // No decimation needed: the native pixels.
  Raster<float> full = src->readDecimated(1000);
  EXPECT_EQ(full.cols, 64);
  EXPECT_EQ(full.at(0, 4, 3), pattern(3, 4));
}

// readDecimated reads four row bands (concurrently with OpenOptions::readThreads): every output
// pixel is the nearest source pixel, (r + 0.5) f, as one whole-image read gives it, also where the
// factor is not an integer, whatever the thread count.
TEST(RasterSource, DecimatedReadInRowBandsIsNearestSamplingForAnyThreadCount) {
  TempDir tmp;
  FixtureSpec s;
  s.width = 301;
  s.height = 203;
  s.type = GDT_UInt16;
  for (int b = 0; b < 2; ++b) {
    FixtureBand fb;
    fb.value = [b](int c, int r) { return 1 + c + 301 * r + b * 7; };
    s.bands.push_back(fb);
  }
  const std::string path = tmp.file("dec.tif");
  writeFixture(path, s);
  std::vector<Raster<float>> got;
  for (int threads : {1, 3}) {
    OpenOptions o;
    o.readThreads = threads;
    got.push_back(openRaster({path}, o)->readDecimated(70));
  }
  const Raster<float>& d = got[0];
  ASSERT_EQ(d.cols, 70);
  ASSERT_EQ(d.rows, 47);
  EXPECT_EQ(got[1].data, d.data);
  EXPECT_EQ(got[1].valid, d.valid);
  const double fx = 301.0 / 70, fy = 203.0 / 47;
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < d.rows; ++r)
      for (int c = 0; c < d.cols; ++c) {
        const int sc = static_cast<int>((c + 0.5) * fx), sr = static_cast<int>((r + 0.5) * fy);
        ASSERT_EQ(d.at(b, r, c), 1 + sc + 301 * sr + b * 7) << b << " " << r << " " << c;
      }
}

TEST(RasterSource, ConcurrentReadsFromManyThreadsMatchSerialReads) {
  TempDir tmp;
  FixtureSpec s;
  s.width = 300;
  s.height = 200;
  for (int b = 0; b < 3; ++b) {
    FixtureBand fb;
    fb.value = [b](int c, int r) { return (c * r + b) % 17 == 0 ? 0 : pattern(c, r, b); };
    fb.nodata = 0;
    s.bands.push_back(fb);
  }
  writeFixture(tmp.file("big.tif"), s);
  for (double gsd : {0.0, 25.0}) {
    auto src = openRaster({tmp.file("big.tif")}, {{}, gsd});
    std::mt19937 rng(42);
    std::vector<PixelWindow> windows;
    for (int i = 0; i < 64; ++i) {
      windows.push_back({static_cast<int>(rng() % 320) - 10, static_cast<int>(rng() % 220) - 10,
                         1 + static_cast<int>(rng() % 60), 1 + static_cast<int>(rng() % 60)});
    }
    std::vector<Raster<float>> serial;
    for (const auto& w : windows) serial.push_back(src->read(w));
    std::vector<Raster<float>> parallel(windows.size());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < windows.size(); i += 4) parallel[i] = src->read(windows[i]);
      });
    }
    for (auto& th : threads) th.join();
    for (size_t i = 0; i < windows.size(); ++i) {
      ASSERT_EQ(parallel[i].data, serial[i].data) << "window " << i;
      ASSERT_EQ(parallel[i].valid, serial[i].valid) << "window " << i;
    }
  }
}
