// openRaster on the real imagery in ../shared/realdata (skipped with a message where it is absent):
// the acceptance rasters of issue 2, Rwanda's single-band stack vs the prepared 4-band chip, and a
// resampled read vs gdal_translate on a real NAIP VRT over PNG.
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::realdataDir;

namespace {

std::vector<std::string> names(const RasterSource& s) {
  std::vector<std::string> out;
  for (const auto& b : s.bands()) out.push_back(b.name);
  return out;
}

const char* kNaipScene =
    "/agoro_naip_us_midwest/georeferenced/37.2292207864713--86.8936640526172.vrt";

}  // namespace

TEST(RealData, RwandaPreparedChip) {
  FIELDSEG_REQUIRE_REALDATA();
  auto src =
      openRaster({realdataDir() + "/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif"});
  EXPECT_EQ(src->grid().width(), 256);
  EXPECT_EQ(src->grid().height(), 256);
  EXPECT_EQ(src->grid().crs().epsg(), 3857);
  EXPECT_NEAR(src->grid().gsdMeters(), 4.78, 0.01);
  EXPECT_EQ(names(*src), (std::vector<std::string>{"blue", "green", "red", "nir"}));
  for (const auto& b : src->bands()) {
    EXPECT_EQ(b.dataType, "UInt16");
    EXPECT_EQ(b.nodata, 0.0);
  }
}

// Mean and std of computeStats vs gdalinfo -stats (GDAL's own statistics, nodata excluded) on a
// temporary copy of the chip (gdalinfo -stats writes an .aux.xml beside the file).
TEST(RealData, RwandaStatsAgreeWithGdalinfo) {
  FIELDSEG_REQUIRE_REALDATA();
  fieldseg::test::TempDir tmp;
  std::string chip = realdataDir() + "/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif";
  auto r = fieldseg::test::runShell("gdal_translate -q '" + chip + "' '" + tmp.file("c.tif") +
                                    "' && gdalinfo -json -stats '" + tmp.file("c.tif") + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto info = nlohmann::json::parse(r.out);
  auto stats = computeStats(*openRaster({chip}));
  ASSERT_EQ(stats.size(), 4u);
  for (size_t b = 0; b < 4; ++b) {
    const auto& band = info["bands"][b];
    // The full-precision values are in the band metadata (the "mean" key is rounded to 3 digits).
    const auto& md = band["metadata"][""];
    EXPECT_NEAR(stats[b].mean, std::stod(md["STATISTICS_MEAN"].get<std::string>()), 1e-6);
    EXPECT_NEAR(stats[b].std, std::stod(md["STATISTICS_STDDEV"].get<std::string>()), 1e-6);
    EXPECT_GE(stats[b].p2, band["minimum"].get<double>());
    EXPECT_LE(stats[b].p98, band["maximum"].get<double>());
    EXPECT_LT(stats[b].p2, stats[b].mean);
    EXPECT_GT(stats[b].p98, stats[b].mean);
  }
}

TEST(RealData, RwandaStackedSingleBandFilesEqualPreparedChip) {
  FIELDSEG_REQUIRE_REALDATA();
  std::string dir = realdataDir() + "/rwanda_planetscope/train_chip_with_labels/";
  auto stacked = openRaster({dir + "B01.tif", dir + "B02.tif", dir + "B03.tif", dir + "B04.tif"});
  auto prepared =
      openRaster({realdataDir() + "/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif"});
  EXPECT_EQ(names(*stacked), names(*prepared));
  EXPECT_EQ(stacked->grid().geoTransform(), prepared->grid().geoTransform());
  EXPECT_TRUE(stacked->grid().crs().sameAs(prepared->grid().crs()));
  // Whole chip plus a boundless margin: every value and every mask bit identical.
  PixelWindow w{-8, -8, 272, 272};
  Raster<float> a = stacked->read(w), b = prepared->read(w);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.valid, b.valid);
  long long validCount = 0;
  for (auto v : a.valid) validCount += v;
  EXPECT_GT(validCount, 0);
  // Selecting by name works the same on both.
  auto nir = openRaster({dir + "B01.tif", dir + "B02.tif", dir + "B03.tif", dir + "B04.tif"},
                        {{"nir", "RED"}, 0});
  auto nirPrep =
      openRaster({realdataDir() + "/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif"},
                 {{"NIR", "red"}, 0});
  EXPECT_EQ(nir->read({0, 0, 256, 256}).data, nirPrep->read({0, 0, 256, 256}).data);
}

TEST(RealData, NaipVrtOverPng) {
  FIELDSEG_REQUIRE_REALDATA();
  auto src = openRaster({realdataDir() + kNaipScene});
  EXPECT_EQ(src->grid().width(), 1024);
  ASSERT_TRUE(src->grid().crs().epsg().has_value());
  EXPECT_EQ(*src->grid().crs().epsg() / 100, 326);  // WGS 84 / UTM north
  EXPECT_NEAR(src->grid().gsdMeters(), 1.0, 1e-9);
  EXPECT_EQ(names(*src), (std::vector<std::string>{"red", "green", "blue"}));
}

TEST(RealData, AustriaSentinel2Stack) {
  FIELDSEG_REQUIRE_REALDATA();
  auto src = openRaster({realdataDir() + "/ftw_austria_s2/inference-img.tif"});
  ASSERT_EQ(src->bands().size(), 8u);
  for (const auto& b : src->bands()) EXPECT_EQ(b.dataType, "UInt16");
  EXPECT_EQ(src->grid().crs().epsg(), 32633);
  EXPECT_NEAR(src->grid().gsdMeters(), 10.0, 1e-9);
}

TEST(RealData, NorthDakotaNaipCogDecimatedStatsUseOverview) {
  FIELDSEG_REQUIRE_REALDATA();
  auto src =
      openRaster({realdataDir() + "/opengeos_naip_north_dakota/m_4709963_se_14_1_20200831.tif"});
  EXPECT_EQ(src->grid().width(), 934);
  EXPECT_EQ(src->grid().height(), 723);
  EXPECT_EQ(src->grid().crs().epsg(), 26914);
  EXPECT_NEAR(src->grid().gsdMeters(), 5.0, 1e-9);
  ASSERT_EQ(src->bands().size(), 4u);
  EXPECT_EQ(src->bands()[0].dataType, "Byte");
  EXPECT_EQ(src->bands()[0].nodata, 0.0);
  // The 2x decimated sample (the COG's overview) gives statistics close to the full-resolution
  // ones.
  auto full = computeStats(*src, 4096);
  auto dec = computeStats(*src, 467);
  for (size_t b = 0; b < 4; ++b) {
    EXPECT_EQ(full[b].validCount, 934LL * 723);
    EXPECT_LT(dec[b].validCount, full[b].validCount / 3);
    EXPECT_NEAR(dec[b].p2, full[b].p2, 3);
    EXPECT_NEAR(dec[b].p98, full[b].p98, 3);
    EXPECT_NEAR(dec[b].mean, full[b].mean, 1);
  }
}

// Half resolution on a real NAIP VRT over PNG vs gdal_translate -r average of the same window.
// The scene's PNG has nearest-neighbour overviews that GDAL would use for any downsampled read of
// the VRT (even with -oo OVERVIEW_LEVEL=NONE, which does not reach the VRT's sources), so the
// reference first copies the window at full resolution to a plain GeoTIFF and averages that. Both
// average the real pixels: agreement within 1e-3 (values 0..255), and a 2x2 mean computed here.
TEST(RealData, NaipHalfResolutionMatchesGdalTranslateAverage) {
  FIELDSEG_REQUIRE_REALDATA();
  fieldseg::test::TempDir tmp;
  std::string path = realdataDir() + kNaipScene;
  auto src = openRaster({path}, {{}, 2.0});
  EXPECT_EQ(src->grid().width(), 512);
  PixelWindow w{100, 60, 128, 96};  // source window (200, 120) 256x192
  Raster<float> r = src->read(w);
  auto ref = fieldseg::test::runShell(
      "gdal_translate -q -ot Float32 -srcwin 200 120 256 192 '" + path + "' '" +
      tmp.file("win.tif") + "' && gdal_translate -q -ot Float32 -r average -outsize 128 96 '" +
      tmp.file("win.tif") + "' '" + tmp.file("ref.tif") + "'");
  ASSERT_EQ(ref.exitCode, 0) << ref.err;
  Raster<float> expect = openRaster({tmp.file("ref.tif")})->read({0, 0, 128, 96});
  ASSERT_EQ(expect.data.size(), r.data.size());
  double maxDiff = 0;
  for (size_t i = 0; i < r.data.size(); ++i)
    maxDiff = std::max(maxDiff, static_cast<double>(std::abs(r.data[i] - expect.data[i])));
  EXPECT_LT(maxDiff, 1e-3);
  Raster<float> native = openRaster({path})->read({200, 120, 256, 192});
  double maxMeanDiff = 0;
  for (int b = 0; b < 3; ++b)
    for (int y = 0; y < 96; ++y)
      for (int x = 0; x < 128; ++x) {
        double m = (native.at(b, 2 * y, 2 * x) + native.at(b, 2 * y, 2 * x + 1) +
                    native.at(b, 2 * y + 1, 2 * x) + native.at(b, 2 * y + 1, 2 * x + 1)) /
                   4;
        maxMeanDiff = std::max(maxMeanDiff, std::abs(m - r.at(b, y, x)));
      }
  EXPECT_LT(maxMeanDiff, 1e-3);
}

TEST(RealData, ParallelReadsOfVrtOverPng) {
  FIELDSEG_REQUIRE_REALDATA();
  auto src = openRaster({realdataDir() + kNaipScene});
  std::vector<PixelWindow> windows;
  for (int i = 0; i < 16; ++i)
    windows.push_back({(i % 4) * 256 - 16, (i / 4) * 256 - 16, 288, 288});
  std::vector<Raster<float>> serial, parallel(windows.size());
  for (const auto& w : windows) serial.push_back(src->read(w));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < windows.size(); i += 4) parallel[i] = src->read(windows[i]);
    });
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < windows.size(); ++i) ASSERT_EQ(parallel[i].data, serial[i].data);
}
