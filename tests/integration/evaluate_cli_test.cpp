// `fieldseg evaluate` end to end: agreement with an independent Python (OGR + shapely)
// computation on a synth scene's truth vs a perturbed prediction, per-field output, usage errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using fieldseg::test::runCli;
using fieldseg::test::runShell;
using fieldseg::test::TempDir;
using nlohmann::json;

std::string python() {
  // The Debian python has the GDAL and shapely bindings; a pyenv shim on PATH may not.
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

bool pythonHasModules() {
  return runShell(python() + " -c 'import shapely, osgeo.ogr'").exitCode == 0;
}

// Synth scene truth (EPSG:4326 GeoJSON) -> a perturbed prediction in EPSG:3857 (GPKG): vertices
// jittered by up to 1.5 m, every 5th field shifted 4 m east, every 7th field dropped, every 11th
// grown 15 % about its first vertex, and a few spurious squares, some of them outside every field.
struct Scene {
  std::string truth, pred, aoi;
};

Scene makeScene(const TempDir& dir) {
  Scene s;
  s.truth = dir.file("truth.geojson");
  s.pred = dir.file("pred.gpkg");
  s.aoi = dir.file("aoi.geojson");
  auto r = runCli({"synth", "--preset", "smallholder", "--size", "256", "--seed", "11", "--out",
                   dir.file("scene.tif"), "--truth", s.truth});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  FieldSet truth = readFields(s.truth);
  FieldSet utm = reproject(truth, Crs::fromEpsg(32636));
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> jit(-1.5, 1.5);
  FieldSet pred;
  pred.crs = utm.crs;
  std::int64_t nextId = 1000;
  double minX = 1e300, minY = 1e300, maxX = -1e300, maxY = -1e300;
  for (std::size_t i = 0; i < utm.fields.size(); ++i) {
    Field f = utm.fields[i];
    for (auto& p : f.polygon.exterior) {
      minX = std::min(minX, p.x), maxX = std::max(maxX, p.x);
      minY = std::min(minY, p.y), maxY = std::max(maxY, p.y);
    }
    if (i % 7 == 3) continue;
    Point origin = f.polygon.exterior[0];
    for (auto& p : f.polygon.exterior) {
      if (i % 11 == 0) p = {origin.x + 1.15 * (p.x - origin.x), origin.y + 1.15 * (p.y - origin.y)};
      p.x += jit(rng) + (i % 5 == 0 ? 4.0 : 0.0);
      p.y += jit(rng);
    }
    f.id = nextId++;
    f.attrs.clear();
    f.attrs["id"] = f.id;
    pred.fields.push_back(f);
  }
  for (int k = 0; k < 6; ++k) {  // spurious 20 m squares along the diagonal, some off the scene
    double x = minX + k * (maxX - minX) / 4, y = minY + k * (maxY - minY) / 4;
    Field f;
    f.id = nextId++;
    f.attrs["id"] = f.id;
    f.polygon.exterior = {{x, y}, {x + 20, y}, {x + 20, y + 20}, {x, y + 20}};
    pred.fields.push_back(f);
  }
  VectorWriteOptions w;
  w.crs = Crs::fromEpsg(3857);
  writeFields(reproject(pred, Crs::fromEpsg(3857)), s.pred, w);
  // AOI: the south-west quarter of the scene, in UTM, written as GeoJSON (lon/lat).
  FieldSet aoi;
  aoi.crs = utm.crs;
  Field a;
  a.id = 1;
  double mx = (minX + maxX) / 2, my = (minY + maxY) / 2;
  a.polygon.exterior = {{minX, minY}, {mx, minY}, {mx, my}, {minX, my}};
  aoi.fields.push_back(a);
  writeFields(aoi, s.aoi);
  return s;
}

void expectClose(const json& cpp, const json& py, const std::string& path) {
  ASSERT_TRUE(py.is_number()) << path;
  ASSERT_TRUE(cpp.is_number()) << path << " missing in the C++ output";
  EXPECT_NEAR(cpp.get<double>(), py.get<double>(), 1e-6) << path;
}

void compare(const std::vector<std::string>& extra, const Scene& s) {
  std::vector<std::string> args = {"evaluate", "--pred", s.pred, "--truth", s.truth, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  // per-field IoUs come through the JSON's per-field layer file
  TempDir d;
  args.push_back("--per-field");
  args.push_back(d.file("scores.geojson"));
  auto r = runCli(args);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  json c = json::parse(r.out);

  std::string cmd = python() + " '" FIELDSEG_SOURCE_DIR "/tools/eval_crosscheck.py' --pred '" +
                    s.pred + "' --truth '" + s.truth + "'";
  for (const auto& e : extra) cmd += " '" + e + "'";
  auto p = runShell(cmd);
  ASSERT_EQ(p.exitCode, 0) << p.err;
  json q = json::parse(p.out);

  EXPECT_EQ(c["metric_crs"], q["metric_crs"]);
  EXPECT_EQ(c["scored_fields"], q["scored_fields"]);
  for (const char* k : {"median", "mean", "frac_above_0_5", "frac_above_0_8"}) {
    expectClose(c["field_iou"][k], q["field_iou"][k], std::string("field_iou.") + k);
  }
  for (const char* k : {"tp", "fp", "fn", "pred_ignored"}) {
    EXPECT_EQ(c["objects"][k], q["objects"][k]) << "objects." << k;
  }
  for (const char* k : {"precision", "recall", "f1", "panoptic_quality", "f1_mean_iou_50_95",
                        "boundary_error_mean_m", "boundary_error_median_m"}) {
    expectClose(c["objects"][k], q["objects"][k], std::string("objects.") + k);
  }
  // Non-vacuous: the scenes have matches, so PQ and the boundary error are not trivially 0.
  EXPECT_GT(c["objects"]["panoptic_quality"].get<double>(), 0);
  EXPECT_GT(c["objects"]["boundary_error_mean_m"].get<double>(), 0);
  for (const char* k : {"iou", "f1", "precision", "recall"}) {
    expectClose(c["pixel"][k], q["pixel"][k], std::string("pixel.") + k);
  }
  EXPECT_NEAR(c["pixel"]["tp_m2"].get<double>(), q["pixel"]["tp_m2"].get<double>(), 1e-3);
  for (const char* k : {"precision", "recall", "f1"}) {
    expectClose(c["boundary"][k], q["boundary"][k], std::string("boundary.") + k);
  }
  EXPECT_NEAR(c["boundary"]["pred_length_m"].get<double>(),
              q["boundary"]["pred_length_m"].get<double>(), 1e-4);

  FieldSet scores = readFields(d.file("scores.geojson"));
  const auto& pf = q["per_field_iou"];
  ASSERT_EQ(scores.fields.size(), pf.size());
  for (std::size_t i = 0; i < pf.size(); ++i) {
    EXPECT_NEAR(std::get<double>(scores.fields[i].attrs.at("iou")), pf[i].get<double>(), 1e-6)
        << "field " << i;
  }
}

class EvaluateCrossCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pythonHasModules()) {
      GTEST_SKIP() << python() << " lacks shapely / osgeo: cannot run the independent check";
    }
  }
};

TEST_F(EvaluateCrossCheck, AgreesWithIndependentComputation) {
  TempDir dir;
  Scene s = makeScene(dir);
  compare({}, s);
}

TEST_F(EvaluateCrossCheck, AgreesUnderPartialLabelsAndAoi) {
  TempDir dir;
  Scene s = makeScene(dir);
  compare({"--partial", "--label-buffer", "4", "--boundary-tol", "3"}, s);
  compare({"--aoi", s.aoi}, s);
  compare({"--partial", "--aoi", s.aoi, "--match-iou", "0.3"}, s);
}

TEST(EvaluateCli, SanityOfThePerturbedScene) {
  TempDir dir;
  Scene s = makeScene(dir);
  auto r = runCli({"evaluate", "--pred", s.pred, "--truth", s.truth, "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  json j = json::parse(r.out);
  int n = j["truth_fields"];
  ASSERT_GT(n, 50);
  // Every 7th field is dropped: those score 0 and are false negatives.
  int dropped = (n - 4) / 7 + 1;
  EXPECT_GE(j["objects"]["fn"].get<int>(), dropped);
  EXPECT_EQ(j["objects"]["fp"].get<int>() >= 6, true);  // the spurious squares at least
  double median = j["field_iou"]["median"];
  EXPECT_GT(median, 0.5);
  EXPECT_LT(median, 1.0);
  // Table output by default, on stdout; logs on stderr.
  auto t = runCli({"evaluate", "--pred", s.pred, "--truth", s.truth});
  ASSERT_EQ(t.exitCode, 0) << t.err;
  EXPECT_NE(t.out.find("field IoU"), std::string::npos);
  EXPECT_NE(t.err.find("evaluate:"), std::string::npos);
}

TEST(EvaluateCli, PerFieldLayerAndOverwriteGuard) {
  TempDir dir;
  Scene s = makeScene(dir);
  std::string out = dir.file("scores.gpkg");
  auto r = runCli({"evaluate", "--pred", s.pred, "--truth", s.truth, "--per-field", out});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  FieldSet scores = readFields(out);
  FieldSet truth = readFields(s.truth);
  ASSERT_EQ(scores.fields.size(), truth.fields.size());
  int matched = 0;
  for (const auto& f : scores.fields) {
    double iou = std::get<double>(f.attrs.at("iou"));
    EXPECT_GE(iou, 0.0);
    EXPECT_LE(iou, 1.0);
    auto m = std::get<std::int64_t>(f.attrs.at("matched"));
    auto best = std::get<std::int64_t>(f.attrs.at("best_pred_id"));
    if (m) {
      ++matched;
      EXPECT_GT(iou, 0.5);
      EXPECT_GE(best, 1000);  // prediction ids come from their 'id' attribute
    }
    if (iou == 0.0) {
      EXPECT_EQ(best, -1);
    }
  }
  EXPECT_GT(matched, 0);
  auto again = runCli({"evaluate", "--pred", s.pred, "--truth", s.truth, "--per-field", out});
  EXPECT_EQ(again.exitCode, 2);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos);
}

TEST(EvaluateCli, IdenticalInputsScoreOneAndBadInputsFail) {
  TempDir dir;
  Scene s = makeScene(dir);
  auto r = runCli({"evaluate", "--pred", s.truth, "--truth", s.truth, "--json", "--no-boundary"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["field_iou"]["median"].get<double>(), 1.0);
  EXPECT_EQ(j["objects"]["fp"], 0);
  EXPECT_EQ(j["objects"]["fn"], 0);
  EXPECT_FALSE(j.contains("boundary"));

  EXPECT_EQ(runCli({"evaluate", "--pred", s.pred}).exitCode, 2);
  EXPECT_EQ(runCli({"evaluate", "--pred", s.pred, "--truth", s.truth, "--match-iou", "2"}).exitCode,
            2);
  auto missing = runCli({"evaluate", "--pred", dir.file("nope.gpkg"), "--truth", s.truth});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.err.find("nope.gpkg"), std::string::npos);
}

}  // namespace
}  // namespace fieldseg
