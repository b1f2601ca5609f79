// The [unlabelled] tools on synthetic scenes whose fields are known exactly:
//  - self-training (`fieldseg pseudo-label`, then `labels` and `train` on human + pseudo chips)
//  does
//    not lower the held-out score of a model that is already good on such scenes;
//  - `fieldseg suggest` never suggests a window over what is already labelled, ranks by score, and
//    refuses bad inputs with one clear line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "fieldseg/fields.hpp"
#include "fieldseg/geometry.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::runCli;
using test::TempDir;

double medianIou(const std::string& pred, const std::string& truth) {
  const auto r = runCli({"evaluate", "--pred", pred, "--truth", truth, "--json"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return json::parse(r.out)["field_iou"]["median"].get<double>();
}

TEST(SelfTraining, PseudoLabelsDoNotLowerTheScoreOfAGoodModel) {
#ifndef FIELDSEG_WITH_TORCH
  GTEST_SKIP() << "built without LibTorch";
#endif
  TempDir d;
  // 11: human labels; 12: unlabelled imagery; 13: held-out test; 14: labelled validation chips.
  for (int s : {11, 12, 13, 14})
    ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(d.file("s" + std::to_string(s) + ".tif"),
                                                   d.file("t" + std::to_string(s) + ".geojson"),
                                                   256, s));
  for (int s : {12, 13}) {
    const auto r = runCli({"-q", "delineate", d.file("s" + std::to_string(s) + ".tif"), "--model",
                           "synth_smallholder", "--threads", "2", "--out",
                           d.file("p" + std::to_string(s) + ".geojson")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  const double base = medianIou(d.file("p13.geojson"), d.file("t13.geojson"));
  ASSERT_GT(base, 0.6) << "the base model is not good on this scene: the test would say nothing";

  // Thresholds for this model: its confidence (mean extent) is lower than that of the Rwanda
  // models, its boundary strength higher; keep the upper half of both.
  auto r = runCli({"pseudo-label", "--fields", d.file("p12.geojson"), "--image", d.file("s12.tif"),
                   "--min-confidence", "0.5", "--min-boundary-strength", "0.95", "--out",
                   d.file("k12.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const json rec = test::readJsonFile(d.file("k12.geojson.run.json"));
  const long long kept = rec["result"]["kept"].get<long long>();
  EXPECT_GT(kept, 20) << r.err;
  EXPECT_LT(kept, rec["result"]["predicted"].get<long long>());
  EXPECT_EQ(rec["config"]["min_confidence"].get<double>(), 0.5);
  for (const auto& f : readFields(d.file("k12.geojson")).fields) {
    EXPECT_GE(std::get<double>(f.attrs.at("confidence")), 0.5);
    EXPECT_GE(std::get<double>(f.attrs.at("boundary_strength")), 0.95);
  }

  for (auto [img, fields, dir] : {std::tuple{"s11.tif", "t11.geojson", "ch"},
                                  {"s12.tif", "k12.geojson", "cp"},
                                  {"s14.tif", "t14.geojson", "cv"}}) {
    r = runCli({"-q", "labels", "--image", d.file(img), "--fields", d.file(fields), "--chips",
                d.file(dir), "--chip-px", "128", "--chip-stride", "128", "--min-labelled", "0"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  {
    std::ofstream c(d.file("st.json"));
    c << R"({"name": "st", "network": {"width": 16, "depth": 4,
             "input_bands": ["red", "green", "blue", "nir"]},
             "train_manifests": [")"
      << d.file("ch/manifest.jsonl") << R"(", ")" << d.file("cp/manifest.jsonl")
      << R"("], "val_manifests": [")" << d.file("cv/manifest.jsonl")
      << R"("], "epochs": 2, "steps_per_epoch": 10, "batch_size": 4, "crop_px": 128,
             "optimizer": {"learning_rate": 0.0001}, "validation": {"select_by": "loss"},
             "thresholds": {"t_ext": 0.4, "t_bound": 0.2, "min_area_m2": 100}})";
  }
  r = runCli({"train", "--config", d.file("st.json"), "--init", "synth_smallholder", "--out",
              d.file("st.fsm"), "--threads", "2"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = runCli({"-q", "delineate", d.file("s13.tif"), "--model", d.file("st.fsm"), "--threads", "2",
              "--out", d.file("q13.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const double after = medianIou(d.file("q13.geojson"), d.file("t13.geojson"));
  // The guard: the initial model competes as epoch 0 on the validation chips of scene 14, by the
  // masked loss of all three heads (pixel MCC of the extent head alone let an epoch through that
  // cost 0.12 median IoU here). The score is field IoU on scene 13, so allow 0.01 of noise.
  EXPECT_GE(after, base - 0.01) << "self-training lowered the median field IoU from " << base
                                << " to " << after;
}

TEST(SuggestCli, WindowsAvoidLabelledFieldsAndComeRankedBestFirst) {
#ifndef FIELDSEG_WITH_TORCH
  GTEST_SKIP() << "built without LibTorch";
#endif
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 5));
  auto r = runCli({"-q", "delineate", d.file("s.tif"), "--model", "synth_smallholder", "--out",
                   d.file("f.geojson"), "--probabilities", d.file("p.tif")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  // Label the western half of the fields.
  FieldSet truth = readFields(d.file("t.geojson"));
  const WorldBox all = [&] {
    WorldBox b = boundsOf(truth.fields[0].polygon);
    for (const auto& f : truth.fields) {
      const WorldBox e = boundsOf(f.polygon);
      b.minX = std::min(b.minX, e.minX);
      b.maxX = std::max(b.maxX, e.maxX);
    }
    return b;
  }();
  FieldSet west;
  west.crs = truth.crs;
  for (const auto& f : truth.fields)
    if (boundsOf(f.polygon).maxX < 0.5 * (all.minX + all.maxX)) west.fields.push_back(f);
  ASSERT_GT(west.fields.size(), 10u);
  writeFields(west, d.file("west.gpkg"));

  r = runCli({"suggest", "--probabilities-in", d.file("p.tif"), "--labels", d.file("west.gpkg"),
              "--window-px", "32", "--count", "12", "--out", d.file("sug.gpkg")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("suggest: 12 of 64 windows of 32 px"), std::string::npos) << r.err;
  const FieldSet sug = readFields(d.file("sug.gpkg"));
  ASSERT_EQ(sug.fields.size(), 12u);
  const FieldSet westInCrs = reproject(west, sug.crs);
  double last = 2;
  for (size_t i = 0; i < sug.fields.size(); ++i) {
    const auto& s = sug.fields[i];
    EXPECT_EQ(std::get<std::int64_t>(s.attrs.at("rank")), static_cast<std::int64_t>(i) + 1);
    const double score = std::get<double>(s.attrs.at("score"));
    EXPECT_LE(score, last);
    last = score;
    EXPECT_EQ(std::get<double>(s.attrs.at("labelled_fraction")), 0.0);
    // No labelled pixel centre lies in a suggested window: any overlap is under one pixel (9 m2).
    for (const auto& f : westInCrs.fields)
      EXPECT_LT(intersectionArea(s.polygon, f.polygon), 9.0) << "window " << i + 1;
  }
  const json rec = test::readJsonFile(d.file("sug.gpkg.run.json"));
  EXPECT_GT(rec["result"]["skipped_labelled"].get<long long>(), 10);

  // Bad inputs: one line, the right exit code, nothing written.
  r = runCli({"suggest", "--probabilities-in", d.file("p.tif"), "--out", d.file("sug.gpkg")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("exists. Pass --overwrite"), std::string::npos) << r.err;
  r = runCli({"suggest", "--probabilities-in", d.file("nope.tif"), "--out", d.file("n.gpkg")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("nope.tif"), std::string::npos) << r.err;
  r = runCli({"suggest", "--probabilities-in", d.file("p.tif"), "--window-px", "2", "--out",
              d.file("n.gpkg")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  r = runCli({"suggest", "--probabilities-in", d.file("p.tif"), "--out", d.file("n.csv")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("unknown extension"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("n.csv")));
  EXPECT_FALSE(fs::exists(d.file("n.gpkg")));
}

TEST(PseudoLabelCli, EmptyPredictionsGiveAnEmptyLayerAndLabelsAreNotPredictions) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 128, 3));
  // The truth file has no confidence attribute: it is not `fieldseg delineate` output.
  auto r = runCli({"pseudo-label", "--fields", d.file("t.geojson"), "--out", d.file("k.geojson")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("has no numeric 'confidence' attribute"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("k.geojson")));
  // A model that found nothing: an empty layer in, an empty layer out.
  writeFields(FieldSet{readFields(d.file("t.geojson")).crs, {}}, d.file("empty.geojson"));
  r = runCli({"pseudo-label", "--fields", d.file("empty.geojson"), "--image", d.file("s.tif"),
              "--out", d.file("k.gpkg")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("kept 0 of 0 fields"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(d.file("k.gpkg")));
  // Without --image the empty output still gets a CRS (lon/lat), so GeoJSON can hold it.
  r = runCli({"pseudo-label", "--fields", d.file("empty.geojson"), "--out", d.file("k3.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(d.file("k3.geojson")));
  r = runCli({"pseudo-label", "--fields", d.file("empty.geojson"), "--min-confidence", "2", "--out",
              d.file("k2.gpkg")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  // A file of points is the wrong file, not "nothing confident".
  {
    std::ofstream pts(d.file("pts.geojson"));
    pts << R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
              "geometry": {"type": "Point", "coordinates": [30, -2]}}]})";
  }
  r = runCli({"pseudo-label", "--fields", d.file("pts.geojson"), "--out", d.file("k4.gpkg")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("no polygons"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("k4.gpkg")));
  // An output format that cannot be written is refused before any work.
  r = runCli({"pseudo-label", "--fields", d.file("empty.geojson"), "--out", d.file("k.txt")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("unknown extension"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fieldseg
