// `fieldseg calibrate` end to end on a synth scene: the truth's label raster, made soft and
// under-confident so that the default t_ext = 0.4 misses every field, must be calibrated to
// thresholds that score at least as well as the defaults (here: much better) on the same data.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using fieldseg::test::runCli;
using fieldseg::test::TempDir;
using nlohmann::json;

// extent' = 0.1 + 0.25 * extent (0.35 inside fields, below the 0.4 default); boundary unchanged;
// distance unchanged.
std::string underConfident(const TempDir& dir, const std::string& labels) {
  auto src = openRaster({labels});
  Raster<float> r = src->read(src->grid().fullWindow());
  Raster<float> out(3, r.rows, r.cols);
  out.grid = r.grid;
  for (int y = 0; y < r.rows; ++y) {
    for (int x = 0; x < r.cols; ++x) {
      out.at(0, y, x) = 0.1f + 0.25f * r.at(0, y, x);
      out.at(1, y, x) = r.at(1, y, x);
      out.at(2, y, x) = r.at(2, y, x);
    }
  }
  std::string path = dir.file("soft.tif");
  GeoTiffWriter w(path, src->grid(), 3, GeoTiffWriter::Type::Float32,
                  {"extent", "boundary", "distance"});
  w.write(0, 0, out);
  w.close();
  return path;
}

TEST(CalibrateCli, BeatsTheDefaultsOnItsValidationData) {
  TempDir dir;
  std::string truth = dir.file("truth.geojson"), labels = dir.file("labels.tif");
  auto s = runCli({"synth", "--preset", "smallholder", "--size", "192", "--seed", "21", "--out",
                   dir.file("scene.tif"), "--truth", truth});
  ASSERT_EQ(s.exitCode, 0) << s.err;
  auto l = runCli({"labels", "--image", dir.file("scene.tif"), "--fields", truth, "--out", labels});
  ASSERT_EQ(l.exitCode, 0) << l.err;
  std::string soft = underConfident(dir, labels);

  std::string report = dir.file("report.json");
  auto r =
      runCli({"calibrate", "--probabilities-in", soft, "--truth", truth, "--t-ext", "0.2,0.3,0.5",
              "--t-bound", "0.1,0.3", "--min-area-m2", "0,50", "--report", report, "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  json j = json::parse(r.out);
  // The default cell (0.4, 0.2, 100) is added to the grid: 4 x 3 x 3 cells.
  ASSERT_EQ(j["grid"].size(), 36u);
  double best = j["best"]["median_iou"], def = j["default"]["median_iou"];
  EXPECT_GE(best, def);
  EXPECT_DOUBLE_EQ(def, 0.0);  // 0.35 < 0.4: no field at the defaults
  EXPECT_GT(best, 0.5);
  EXPECT_LT(j["best"]["t_ext"].get<double>(), 0.35);
  double maxCell = 0;
  for (const auto& c : j["grid"]) maxCell = std::max(maxCell, c["median_iou"].get<double>());
  EXPECT_DOUBLE_EQ(best, maxCell);
  EXPECT_GT(j["fields"].get<int>(), 20);

  // The table form names the best row; the report file holds the same choice.
  auto t = runCli({"calibrate", "--probabilities-in", soft, "--truth", truth, "--t-ext", "0.3",
                   "--t-bound", "0.2", "--min-area-m2", "100"});
  ASSERT_EQ(t.exitCode, 0) << t.err;
  EXPECT_NE(t.out.find("<- best"), std::string::npos);
  auto rep =
      runCli({"calibrate", "--probabilities-in", soft, "--truth", truth, "--report", report});
  EXPECT_EQ(rep.exitCode, 2);  // exists, no --overwrite
}

TEST(CalibrateCli, UsageErrors) {
  TempDir dir;
  EXPECT_EQ(runCli({"calibrate", "--truth", "a.geojson"}).exitCode, 2);
  EXPECT_EQ(runCli({"calibrate", "--probabilities-in", "p.tif", "--truth", "a.geojson", "--truth",
                    "b.geojson"})
                .exitCode,
            2);
  EXPECT_EQ(runCli({"calibrate", "--probabilities-in", "p.tif", "--truth", "a.geojson", "--out",
                    dir.file("m.pt")})
                .exitCode,
            2);
  EXPECT_EQ(runCli({"calibrate", "--probabilities-in", "p.tif", "--truth", "a.geojson", "--t-ext",
                    "0.3,abc"})
                .exitCode,
            2);
}

}  // namespace
}  // namespace fieldseg
