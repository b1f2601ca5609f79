// [reliability] bad pixel values: NaN / Inf are invalid pixels like nodata. A scene with a NaN
// patch still gives its fields outside the patch; an all-NaN scene gives an empty layer and says
// so; and calibrate refuses an all-NaN image with a clear message (it used to report a missing temp
// file).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using namespace fieldseg::test;

namespace {

// A Float32 copy of `src` with NaN in the pixels where keep(x, y) is false (Inf on every 7th).
void writeWithNan(const std::string& src, const std::string& dst,
                  const std::function<bool(int, int)>& keep) {
  auto in = openRaster({src});
  Raster<float> r = in->read(in->grid().fullWindow());
  std::vector<std::string> names;
  for (const auto& b : in->bands()) names.push_back(b.name);
  for (int b = 0; b < r.bands; ++b)
    for (int y = 0; y < r.rows; ++y)
      for (int x = 0; x < r.cols; ++x)
        if (!keep(x, y))
          r.at(b, y, x) = (x % 7 == 0) ? std::numeric_limits<float>::infinity()
                                       : std::numeric_limits<float>::quiet_NaN();
  GeoTiffWriter w(dst, in->grid(), r.bands, GeoTiffWriter::Type::Float32, names);
  w.write(0, 0, r);
  w.close();
}

size_t featureCount(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(f), {}))["features"]
      .size();
}

}  // namespace

TEST(BadInputsValues, NanPixelsAreNodataEverywhere) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 12));
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/synth_smallholder.fsm";
  writeWithNan(d.file("s.tif"), d.file("patch.tif"),
               [](int x, int y) { return x >= 64 || y >= 64; });
  writeWithNan(d.file("s.tif"), d.file("allnan.tif"), [](int, int) { return false; });

  auto r = runCli({"delineate", d.file("s.tif"), "--model", model, "--out", d.file("a.geojson")});
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err.find("NaN/Inf"), std::string::npos) << r.err;
  r = runCli({"delineate", d.file("patch.tif"), "--model", model, "--out", d.file("p.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  // Counted once per pixel and date (tile halos read them again, the count does not), reported.
  EXPECT_NE(r.err.find("warning: 4096 pixel-dates hold NaN/Inf values"), std::string::npos)
      << r.err;
  {
    std::ifstream rec(d.file("p.geojson.run.json"));
    ASSERT_TRUE(rec) << "no run record";
    const auto j = nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(rec), {}));
    EXPECT_EQ(j["result"]["nan_inf_pixels_masked"].get<long long>(), 4096);
  }
  EXPECT_EQ(r.err.find("NaN/Inf"), r.err.rfind("NaN/Inf")) << "warned once: " << r.err;
  // Resampled on the fly (--gsd): still counted, at the output pixels (about 4096 / 4).
  const double gsd = openRaster({d.file("patch.tif")})->grid().gsdMeters();
  r = runCli({"delineate", d.file("patch.tif"), "--model", model, "--out", d.file("g.geojson"),
              "--gsd", std::to_string(2 * gsd)});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 1024 pixel-dates hold NaN/Inf values"), std::string::npos)
      << r.err;
  const size_t whole = featureCount(d.file("a.geojson")),
               patched = featureCount(d.file("p.geojson"));
  EXPECT_GT(whole, 20u);
  // A 64 x 64 NaN corner is 1/16 of the scene: most fields survive.
  EXPECT_GT(patched, whole / 2) << whole << " fields without the patch";

  r = runCli({"delineate", d.file("allnan.tif"), "--model", model, "--out", d.file("n.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(featureCount(d.file("n.geojson")), 0u);
  EXPECT_NE(r.err.find("every pixel of the input is nodata"), std::string::npos) << r.err;

  r = runCli({"calibrate", "--model", model, "--image", d.file("allnan.tif"), "--truth",
              d.file("t.geojson")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("is nodata (nodata value, mask, or NaN/Inf)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("prob_0.tif"), std::string::npos) << r.err;
}
