// `fieldseg calibrate` end to end on a synth scene: the truth's label raster, made soft and
// under-confident so that the default t_ext = 0.4 misses every field, must be calibrated to
// thresholds that score at least as well as the defaults (here: much better) on the same data.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
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

  // Marker heights are tried with every t_dist > 0 only: 2 x 1 x 1 x (1 + 2 x 2) cells (the
  // defaults t_ext 0.4, t_dist 0 and marker_h 0.1 join the grid).
  auto m = runCli({"calibrate", "--probabilities-in", soft, "--truth", truth, "--t-ext", "0.2",
                   "--t-bound", "0.2", "--min-area-m2", "100", "--t-dist", "0.1,0.2", "--marker-h",
                   "0.05,0.1", "--json"});
  ASSERT_EQ(m.exitCode, 0) << m.err;
  json jm = json::parse(m.out);
  ASSERT_EQ(jm["grid"].size(), 10u);
  for (const auto& c : jm["grid"]) {
    if (c["t_dist"].get<double>() == 0) {
      EXPECT_DOUBLE_EQ(c["marker_h"].get<double>(), 0.1);
    }
  }
  EXPECT_TRUE(jm["best"].contains("marker_h"));

  // The table form names the best row; the report file holds the same choice.
  auto t = runCli({"calibrate", "--probabilities-in", soft, "--truth", truth, "--t-ext", "0.3",
                   "--t-bound", "0.2", "--min-area-m2", "100"});
  ASSERT_EQ(t.exitCode, 0) << t.err;
  EXPECT_NE(t.out.find("<- best"), std::string::npos);
  auto rep =
      runCli({"calibrate", "--probabilities-in", soft, "--truth", truth, "--report", report});
  EXPECT_EQ(rep.exitCode, 2);  // exists, no --overwrite
}

// With a (tiny, barely trained) network: one probability pass, then the grid; the chosen thresholds
// land in the copied model's card and score at least as well as the card's own.
TEST(CalibrateCli, WritesChosenThresholdsIntoTheModelCard) {
  TempDir dir;
  std::string truth = dir.file("truth.geojson"), scene = dir.file("scene.tif");
  auto s = runCli({"synth", "--preset", "smallholder", "--size", "128", "--seed", "4", "--out",
                   scene, "--truth", truth, "--bands", "red,green,blue"});
  ASSERT_EQ(s.exitCode, 0) << s.err;
  auto l = runCli({"labels", "--image", scene, "--fields", truth, "--chips", dir.file("chips"),
                   "--chip-px", "64", "--chip-stride", "64", "--min-labelled", "0"});
  ASSERT_EQ(l.exitCode, 0) << l.err;
  std::string cfg = dir.file("tiny.json");
  {
    std::ofstream f(cfg);
    f << R"({"name": "tiny", "network": {"width": 4, "depth": 2, "input_bands": ["red", "green", "blue"]},
            "train_manifests": [")"
      << dir.file("chips/manifest.jsonl")
      << R"("], "epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "crop_px": 64,
            "thresholds": {"t_ext": 0.4, "t_bound": 0.2, "min_area_m2": 100}})";
  }
  std::string model = dir.file("tiny.fsm"), calibrated = dir.file("tiny_cal.fsm");
  auto t = runCli({"train", "--config", cfg, "--out", model, "--threads", "2"});
  if (t.exitCode == 2 && t.err.find("LibTorch") != std::string::npos) {
    GTEST_SKIP() << "fieldseg was built without LibTorch: no model to calibrate";
  }
  ASSERT_EQ(t.exitCode, 0) << t.err;
  auto r = runCli({"calibrate", "--model", model, "--image", scene, "--truth", truth, "--out",
                   calibrated, "--t-ext", "0.3,0.5", "--t-bound", "0.2", "--min-area-m2", "0",
                   "--json", "--threads", "2"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_GE(j["best"]["median_iou"].get<double>(), j["default"]["median_iou"].get<double>());
  auto info = runCli({"info", calibrated, "--json"});
  ASSERT_EQ(info.exitCode, 0) << info.err;
  auto pos = info.out.find("\"calibration\"");
  EXPECT_NE(pos, std::string::npos) << info.out;
  // The card's thresholds are the chosen ones.
  json card = json::parse(info.out);
  const json* th = nullptr;
  for (const json* c : {&card, card.contains("model_card") ? &card["model_card"] : nullptr}) {
    if (c && c->contains("thresholds")) th = &(*c)["thresholds"];
  }
  ASSERT_NE(th, nullptr) << info.out;
  EXPECT_DOUBLE_EQ((*th)["t_ext"].get<double>(), j["best"]["t_ext"].get<double>());
  EXPECT_DOUBLE_EQ((*th)["t_bound"].get<double>(), j["best"]["t_bound"].get<double>());
  EXPECT_DOUBLE_EQ((*th)["min_area_m2"].get<double>(), j["best"]["min_area_m2"].get<double>());
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
