// GeoTiffWriter: tiled DEFLATE GeoTIFF, written in any order (also from several threads), atomic
// rename on close, types rounded and clamped, metadata, and abandoning on destruction.
#include <gdal.h>

#include <filesystem>
#include <thread>

#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;
using fieldseg::test::TempDir;

namespace {

// The writer's temp sibling (fieldseg/temp_files.hpp) in `dir`.
bool hasTempFile(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".fieldseg-tmp-") != std::string::npos) return true;
  return false;
}

GridSpec utmGrid(int w, int h) {
  return GridSpec(w, h, {600000, 3, 0, 110000, 0, -3}, Crs::fromEpsg(32636));
}

float valueAt(int b, int x, int y) { return b * 1000.5f + x * 0.25f - y; }

Raster<float> tileAt(int bands, int x, int y, int w, int h) {
  Raster<float> r(bands, h, w, 0.0f);
  for (int b = 0; b < bands; ++b)
    for (int yy = 0; yy < h; ++yy)
      for (int xx = 0; xx < w; ++xx) r.at(b, yy, xx) = valueAt(b, x + xx, y + yy);
  return r;
}

std::string structureItem(const std::string& path, const char* key) {
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  const char* v = GDALGetMetadataItem(ds, key, "IMAGE_STRUCTURE");
  std::string out = v ? v : "";
  GDALClose(ds);
  return out;
}

}  // namespace

TEST(GeoTiffWriter, TilesInAnyOrderFromThreadsRoundTrip) {
  TempDir tmp;
  std::string path = tmp.file("out.tif");
  const int W = 600, H = 300;
  {
    GeoTiffWriter w(path, utmGrid(W, H), 3, GeoTiffWriter::Type::Float32,
                    {"extent", "boundary", "distance"}, -9999.0);
    w.setMetadata("TIFFTAG_DATETIME", "2021:08:01 12:00:00");
    // 128 px tiles written by 3 threads in reverse order; the last ones stick out of the grid.
    std::vector<std::pair<int, int>> origins;
    for (int y = 0; y < H; y += 128)
      for (int x = 0; x < W; x += 128) origins.insert(origins.begin(), {x, y});
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < origins.size(); i += 3)
          w.write(origins[i].first, origins[i].second,
                  tileAt(3, origins[i].first, origins[i].second, 128, 128));
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_TRUE(hasTempFile(fs::path(path).parent_path()));
    EXPECT_FALSE(fs::exists(path));
    w.close();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(hasTempFile(fs::path(path).parent_path()));
  EXPECT_EQ(structureItem(path, "COMPRESSION"), "DEFLATE");
  EXPECT_EQ(structureItem(path, "PREDICTOR"), "3");
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  int bx = 0, by = 0;
  GDALGetBlockSize(GDALGetRasterBand(ds, 1), &bx, &by);
  EXPECT_EQ(bx, 256);
  EXPECT_EQ(by, 256);
  GDALClose(ds);

  auto src = openRaster({path});
  EXPECT_EQ(src->grid().width(), W);
  EXPECT_EQ(src->grid().crs().epsg(), 32636);
  EXPECT_EQ(src->grid().geoTransform(), utmGrid(W, H).geoTransform());
  ASSERT_EQ(src->bands().size(), 3u);
  EXPECT_EQ(src->bands()[1].name, "boundary");
  EXPECT_EQ(src->bands()[2].nodata, -9999.0);
  EXPECT_EQ(src->datetime(), "2021-08-01T12:00:00Z");  // ISO 8601 UTC
  Raster<float> r = src->read(src->grid().fullWindow());
  for (int b = 0; b < 3; ++b)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) ASSERT_EQ(r.at(b, y, x), valueAt(b, x, y)) << x << "," << y;
}

TEST(GeoTiffWriter, IntegerTypesAreRoundedAndClamped) {
  TempDir tmp;
  std::string path = tmp.file("b.tif");
  GeoTiffWriter w(path, utmGrid(4, 1), 1, GeoTiffWriter::Type::Byte, {"labels"});
  Raster<float> r(1, 1, 4, 0.0f);
  r.data = {300.0f, -5.0f, 2.6f, 7.4f};
  w.write(0, 0, r);
  w.close();
  EXPECT_EQ(structureItem(path, "COMPRESSION"), "DEFLATE");
  Raster<float> back = openRaster({path})->read({0, 0, 4, 1});
  EXPECT_EQ(back.data, (std::vector<float>{255, 0, 3, 7}));
  EXPECT_EQ(openRaster({path})->bands()[0].dataType, "Byte");
}

TEST(GeoTiffWriter, AbandonedWriterLeavesNothingAndErrorsAreClear) {
  TempDir tmp;
  std::string path = tmp.file("gone.tif");
  {
    GeoTiffWriter w(path, utmGrid(10, 10), 1, GeoTiffWriter::Type::UInt16, {});
    w.write(0, 0, tileAt(1, 0, 0, 10, 10));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(hasTempFile(fs::path(path).parent_path()));

  EXPECT_THROW(GeoTiffWriter(tmp.file("no/such/dir/x.tif"), utmGrid(10, 10), 1,
                             GeoTiffWriter::Type::Float32, {}),
               IoError);
  EXPECT_THROW(GeoTiffWriter(path, utmGrid(10, 10), 2, GeoTiffWriter::Type::Float32, {"one"}),
               UsageError);
  GeoTiffWriter w(path, utmGrid(10, 10), 2, GeoTiffWriter::Type::Float32, {});
  EXPECT_THROW(w.write(0, 0, tileAt(1, 0, 0, 4, 4)), UsageError);
  w.write(-20, -20, tileAt(2, 0, 0, 4, 4));  // entirely outside: ignored
  w.close();
  EXPECT_THROW(w.write(0, 0, tileAt(2, 0, 0, 4, 4)), UsageError);
  EXPECT_TRUE(fs::exists(path));
}

// Probability rasters as GIS users open them: a Cloud Optimized GeoTIFF (one file, nothing left
// beside it by the copy and the rename) with a nodata value, GDAL scale/offset, band names and
// overviews; openRaster honours the nodata value and the scale.
TEST(GeoTiffWriter, CogWithNodataScaleAndOverviews) {
  TempDir dir;
  const std::string path = dir.file("p.tif");
  {
    GeoTiffWriter w(path, utmGrid(600, 600), 2, GeoTiffWriter::Type::Byte, {"extent", "boundary"},
                    255.0);
    w.setScaleOffset(1.0 / 254.0, 0.0);
    w.writeCogOnClose();
    Raster<float> r(2, 600, 600, 51.0f);
    for (int b = 0; b < 2; ++b)
      for (int y = 0; y < 600; ++y)
        for (int x = 0; x < 100; ++x) r.at(b, y, x) = 255.0f;  // no data
    w.write(0, 0, r);
    w.close();
  }
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "p.tif") << "left behind: " << e.path();
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  const char* layout = GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE");
  EXPECT_STREQ(layout ? layout : "", "COG");
  GDALRasterBandH b1 = GDALGetRasterBand(ds, 1);
  EXPECT_EQ(GDALGetMaskFlags(b1), GMF_NODATA);
  int has = 0;
  EXPECT_EQ(GDALGetRasterNoDataValue(b1, &has), 255.0);
  EXPECT_TRUE(has);
  EXPECT_GE(GDALGetOverviewCount(b1), 1);  // 600 px: at least 300 px
  EXPECT_NEAR(GDALGetRasterScale(b1, nullptr), 1.0 / 254.0, 1e-12);
  EXPECT_STREQ(GDALGetDescription(GDALGetRasterBand(ds, 2)), "boundary");
  GDALClose(ds);
  const auto src = openRaster({path});
  EXPECT_DOUBLE_EQ(src->bands()[0].scale, 1.0 / 254.0);
  const Raster<float> got = src->read({0, 0, 600, 600});
  EXPECT_FALSE(got.isValid(10, 50));
  EXPECT_TRUE(got.isValid(10, 150));
  EXPECT_NEAR(got.at(0, 10, 150), 51.0f / 254.0f, 1e-6);
}
