// [gis] `fieldseg models list|show` and shipped model names in --model: the table a user reads to
// choose a model (bands, GSD range, thresholds, validation scores, licence), resolution of a bare
// name, and the error for a name that is no model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg::test;

namespace {
const std::string kModels = std::string(FIELDSEG_SOURCE_DIR) + "/models";
}

TEST(ModelsCli, ListShowsEveryShippedModelWithItsBandsScoresAndLicence) {
  auto r = runCli({"models", "list", "--json"});
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto all = nlohmann::json::parse(r.out);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(kModels)) files += e.path().extension() == ".fsm";
  EXPECT_EQ(all.size(), files);
  bool sawSmallholder = false;
  for (const auto& m : all) {
    EXPECT_FALSE(m["input_bands"].empty()) << m["name"];
    EXPECT_TRUE(m["gsd_range_m"].is_array()) << m["name"];
    EXPECT_TRUE(m["thresholds"].contains("t_ext")) << m["name"];
    if (m["name"] == "smallholder") {
      sawSmallholder = true;
      EXPECT_TRUE(m["non_commercial"].get<bool>());  // Planet NICFI imagery
      EXPECT_EQ(m["validation"]["fields"], 181);
      EXPECT_GT(m["validation"]["median_iou"].get<double>(), 0.3);
    }
  }
  EXPECT_TRUE(sawSmallholder);
  r = runCli({"models"});  // list is the default
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("smallholder"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("non-commercial only"), std::string::npos) << r.out;
  r = runCli({"models", "show", "smallholder"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const char* k : {"red,green,blue,nir", "NON-COMMERCIAL", "median field IoU", "trained by"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k << "\n" << r.out;
}

TEST(ModelsCli, ABareNameResolvesToTheShippedModelAndAnUnknownOneIsAClearError) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 4));
  auto r = runCli({"delineate", d.file("s.tif"), "--model", "synth_smallholder", "--out",
                   d.file("a.geojson"), "-q"});  // -q after the subcommand works too
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  r = runCli({"-q", "delineate", d.file("s.tif"), "--model", kModels + "/synth_smallholder.fsm",
              "--out", d.file("b.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto a = nlohmann::json::parse(std::ifstream(d.file("a.geojson")));
  const auto b = nlohmann::json::parse(std::ifstream(d.file("b.geojson")));
  EXPECT_EQ(a["features"].size(), b["features"].size());
  EXPECT_GT(a["features"].size(), 0u);

  r = runCli(
      {"delineate", d.file("s.tif"), "--model", "no_such_model", "--out", d.file("c.geojson")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("no shipped model of that name"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fieldseg models list"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("c.geojson")));
  // FIELDSEG_MODELS puts another folder first.
  fs::create_directory(d.file("m"));
  fs::copy_file(kModels + "/synth_smallholder.fsm", d.file("m/mine.fsm"));
  r = runShell("FIELDSEG_MODELS='" + d.file("m") + "' '" + FIELDSEG_CLI + "' models list --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("\"mine\""), std::string::npos) << r.out;
  // `fieldseg info NAME` prints the card of a shipped model; an unknown name is a missing file.
  r = runCli({"info", "synth_smallholder", "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("\"model_card\""), std::string::npos) << r.out;
  r = runCli({"info", "no_such_model"});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("cannot open raster 'no_such_model'"), std::string::npos) << r.err;
}
