// `fieldseg grid` / `delineate --grid` / `merge` end to end, without a cluster (issue 8 acceptance
// 2, 3, 4): a 4 x 4-cell grid of a synthetic scene, delineated with oracle probabilities (and,
// in BatchGridNetwork, with the real network) shard by shard, merged, and compared with the
// single-process run by an independent script (compare_fields.py: Python + OGR, bit-exact
// coordinates).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace fieldseg {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string python() { return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

test::CliResult compareFields(const std::string& a, const std::string& b,
                              const std::string& grid = {}) {
  return test::runShell(python() + " '" + FIELDSEG_SOURCE_DIR +
                        "/tests/integration/compare_fields.py' '" + a + "' '" + b + "' " +
                        (grid.empty() ? "" : "'" + grid + "'"));
}

class BatchGrid : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    auto ok = [](const test::CliResult& r) { ASSERT_EQ(r.exitCode, 0) << r.err; };
    ok(test::runCli({"-q", "synth", "--preset", "smallholder", "--size", "512", "--seed", "5",
                     "--out", f("scene.tif"), "--truth", f("truth.geojson")}));
    ok(test::runCli({"-q", "labels", "--image", f("scene.tif"), "--fields", f("truth.geojson"),
                     "--out", f("labels.tif")}));
    // Single process, with tiles (128 px) that differ from the cells (128 px, but the cells get
    // their own halo and ownership): the reference.
    ok(test::runCli({"-q", "delineate", f("scene.tif"), "--probabilities-in", f("labels.tif"),
                     "--tile-px", "128", "--out", f("single.gpkg")}));
    ok(test::runCli({"grid", "--images", f("scene.tif"), "--cell-m", "384", "--snap-to-extent",
                     "--out", f("grid.json")}));
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::string f(const std::string& name) { return dir_->file(name); }

  // Runs every shard of `count` with flags; returns the ids each run processed.
  static std::set<std::string> runShards(const std::string& outDir, int count,
                                         bool viaEnvironment = false) {
    std::set<std::string> processed;
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> args = {"delineate",     "--grid",         f("grid.json"),
                                       "--out-dir",     outDir,           "--probabilities-in",
                                       f("labels.tif"), "--cell-halo-px", "96"};
      test::CliResult r;
      if (viaEnvironment) {
        // Kubernetes Indexed Job style: index from JOB_COMPLETION_INDEX, count from the flag.
        std::string cmd = "JOB_COMPLETION_INDEX=" + std::to_string(i) + " '" + FIELDSEG_CLI + "'";
        for (const auto& a : args) cmd += " '" + a + "'";
        cmd += " --shard-count " + std::to_string(count);
        r = test::runShell(cmd);
      } else {
        args.insert(args.end(),
                    {"--shard-index", std::to_string(i), "--shard-count", std::to_string(count)});
        r = test::runCli(args);
      }
      EXPECT_EQ(r.exitCode, 0) << r.err;
      json rep = json::parse(r.out);
      EXPECT_EQ(rep["shard_index"], i);
      EXPECT_EQ(rep["index_source"], viaEnvironment ? "JOB_COMPLETION_INDEX" : "flag");
      for (const auto& id : rep["processed"]) processed.insert(id.get<std::string>());
    }
    return processed;
  }

  static std::unique_ptr<test::TempDir> dir_;
};
std::unique_ptr<test::TempDir> BatchGrid::dir_;

TEST_F(BatchGrid, GridIsFourByFourAndDeterministic) {
  json g = test::readJsonFile(f("grid.json"));
  ASSERT_EQ(g["cells"].size(), 16u);
  EXPECT_EQ(g["crs"], "EPSG:32636");
  ASSERT_EQ(test::runCli({"grid", "--images", f("scene.tif"), "--cell-m", "384", "--snap-to-extent",
                          "--out", f("grid2.json")})
                .exitCode,
            0);
  EXPECT_EQ(test::readJsonFile(f("grid2.json")), g);
  // A VRT of the scene gives the same cells (images may be VRTs or /vsi* paths).
  ASSERT_EQ(
      test::runShell("gdal_translate -q -of VRT '" + f("scene.tif") + "' '" + f("scene.vrt") + "'")
          .exitCode,
      0);
  ASSERT_EQ(test::runCli({"grid", "--images", f("scene.vrt"), "--cell-m", "384", "--snap-to-extent",
                          "--out", f("grid-vrt.json")})
                .exitCode,
            0);
  json gv = test::readJsonFile(f("grid-vrt.json"));
  ASSERT_EQ(gv["cells"].size(), g["cells"].size());
  for (size_t i = 0; i < g["cells"].size(); ++i) {
    EXPECT_EQ(gv["cells"][i]["bounds"], g["cells"][i]["bounds"]);
    EXPECT_EQ(gv["cells"][i]["images"][0], f("scene.vrt"));
  }
  // --overwrite guard and usage errors exit 2.
  EXPECT_EQ(test::runCli({"grid", "--images", f("scene.tif"), "--out", f("grid2.json")}).exitCode,
            2);
  EXPECT_EQ(
      test::runCli({"grid", "--images", f("scene.tif"), "--cell-m", "-5", "--out", f("grid3.json")})
          .exitCode,
      2);
}

// Acceptance 2 and 3.
TEST_F(BatchGrid, MergedShardsEqualSingleProcessAndRerunRedoesExactlyTheDamagedCells) {
  const std::string out = f("out-a");
  std::set<std::string> first = runShards(out, 3);
  EXPECT_EQ(first.size(), 16u);
  ASSERT_EQ(test::runCli(
                {"merge", "--grid", f("grid.json"), "--in-dir", out, "--out", f("merged-a.gpkg")})
                .exitCode,
            0);
  test::CliResult cmp = compareFields(f("single.gpkg"), f("merged-a.gpkg"), f("grid.json"));
  EXPECT_EQ(cmp.exitCode, 0) << cmp.out << cmp.err;
  // The comparison means something only if many fields cross cell edges (and came out whole).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmp.out, m, std::regex(R"((\d+) straddling a cell edge)")))
      << cmp.out;
  EXPECT_GT(std::stoi(m[1]), 50) << cmp.out;

  // Nothing left to do: every shard skips all its cells.
  EXPECT_TRUE(runShards(out, 3).empty());

  // Delete two outputs, truncate a third.
  json g = test::readJsonFile(f("grid.json"));
  const std::string a = g["cells"][2]["id"], b = g["cells"][7]["id"], c = g["cells"][12]["id"];
  fs::remove(out + "/cells/" + a + ".geojson");
  fs::remove(out + "/cells/" + b + ".geojson");
  fs::resize_file(out + "/cells/" + c + ".geojson",
                  fs::file_size(out + "/cells/" + c + ".geojson") / 3);
  // Rerun with another shard count, indices from the environment: exactly those three are redone.
  EXPECT_EQ(runShards(out, 4, true), (std::set<std::string>{a, b, c}));
  ASSERT_EQ(
      test::runCli({"merge", "--grid", f("grid.json"), "--in-dir", out, "--out", f("merged-b.fgb")})
          .exitCode,
      0);
  cmp = compareFields(f("single.gpkg"), f("merged-b.fgb"));
  EXPECT_EQ(cmp.exitCode, 0) << cmp.out << cmp.err;
  // GeoJSON output (RFC 7946, lon/lat) holds the same number of fields.
  ASSERT_EQ(test::runCli({"merge", "--grid", f("grid.json"), "--in-dir", out, "--out",
                          f("merged-c.geojson")})
                .exitCode,
            0);
  json gj = test::readJsonFile(f("merged-c.geojson"));
  std::set<std::string> ids;  // fiboa string ids, unique after the merge
  for (const auto& feat : gj["features"]) ids.insert(feat["properties"]["id"].get<std::string>());
  EXPECT_EQ(ids.size(), gj["features"].size());
  EXPECT_GT(ids.size(), 500u);
}

// Acceptance 4.
TEST_F(BatchGrid, MergeWithAMissingCellFailsNamingIt) {
  const std::string out = f("out-m");
  runShards(out, 2);
  json g = test::readJsonFile(f("grid.json"));
  const std::string gone = g["cells"][9]["id"];
  fs::remove(out + "/cells/" + gone + ".geojson");
  fs::remove(out + "/cells/" + gone + ".done");
  test::CliResult r = test::runCli(
      {"merge", "--grid", f("grid.json"), "--in-dir", out, "--out", f("merged-m.gpkg")});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("'" + gone + "'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 of 16 cells"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(f("merged-m.gpkg")));
}

TEST_F(BatchGrid, ShardFlagsAndEnvironmentErrorsAreUsageErrors) {
  const std::string out = f("out-e");
  // AWS Batch gives an index but no count.
  test::CliResult r = test::runShell("AWS_BATCH_JOB_ARRAY_INDEX=1 '" + std::string(FIELDSEG_CLI) +
                                     "' delineate --grid '" + f("grid.json") + "' --out-dir '" +
                                     out + "' --probabilities-in '" + f("labels.tif") + "'");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("--shard-count"), std::string::npos) << r.err;
  r = test::runCli({"delineate", "--grid", f("grid.json"), "--out-dir", out, "--probabilities-in",
                    f("labels.tif"), "--shard-index", "4", "--shard-count", "4"});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  r = test::runCli({"delineate", "--grid", f("grid.json"), "--probabilities-in", f("labels.tif")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_FALSE(fs::exists(out + "/cells"));
}

// [reliability] security: a manifest whose cell ids name paths (traversal, absolute, hidden, NUL)
// or repeat is refused by delineate --grid and merge before anything is written or read.
TEST_F(BatchGrid, HostileCellIdsAreRefusedAndNothingIsWrittenOutsideTheOutputDir) {
  const std::string root = f("hostile");
  fs::create_directories(root + "/a/b/c/d");
  const json good = test::readJsonFile(f("grid.json"));
  const std::vector<std::string> ids = {
      "../../../../x/pwn",   root + "/abs",         "../../escape", ".hidden", "",
      std::string(300, 'z'), std::string("x\0y", 3)};  // a NUL byte: dumped as \u0000
  int k = 0;
  for (const auto& id : ids) {
    SCOPED_TRACE(id);
    json g = good;
    g["cells"][3]["id"] = id;
    const std::string text = g.dump(2);
    const std::string manifest = root + "/grid" + std::to_string(k++) + ".json";
    std::ofstream(manifest) << text;
    const std::string out = root + "/a/b/c/d/out";
    test::CliResult r =
        test::runCli({"delineate", "--grid", manifest, "--out-dir", out, "--probabilities-in",
                      f("labels.tif"), "--shard-index", "0", "--shard-count", "1"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("invalid cell id"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out + "/cells")) << "cells written despite the bad manifest";
    r = test::runCli({"merge", "--grid", manifest, "--in-dir", out, "--out", root + "/m.gpkg"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_FALSE(fs::exists(root + "/m.gpkg"));
  }
  // Nothing appeared anywhere under the test folder but the manifests and the empty tree.
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) {
      EXPECT_EQ(e.path().extension(), ".json") << e.path();
    }
  }
  EXPECT_FALSE(fs::exists(f("x")));
  EXPECT_FALSE(fs::exists(root + "/abs.geojson"));
  // Duplicate ids lose a cell silently no more.
  json dup = good;
  dup["cells"][4]["id"] = dup["cells"][5]["id"];
  std::ofstream(root + "/dup.json") << dup.dump(2);
  test::CliResult r = test::runCli(
      {"merge", "--grid", root + "/dup.json", "--in-dir", root, "--out", root + "/m.gpkg"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("twice"), std::string::npos) << r.err;
}

// [throughput] Exact tiling with the real network: the network's tiles are one grid over the
// raster (tiles/predict_pass.hpp), so shards that each predict only around their cells give the
// same probabilities, hence the same fields bit for bit, as one process over the whole scene.
TEST(BatchGridNetwork, ShardedEqualsSingleWithTheModel) {
  const auto models = test::runCli({"models", "list"});
  if (models.exitCode != 0 || models.out.find("synth_smallholder") == std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  test::TempDir d;
  auto ok = [](const test::CliResult& r) { ASSERT_EQ(r.exitCode, 0) << r.err; };
  ok(test::runCli({"-q", "synth", "--preset", "smallholder", "--size", "600", "--seed", "8",
                   "--out", d.file("scene.tif"), "--truth", d.file("truth.geojson")}));
  // Network tiles of 208 px (600 = 3 x 200, rounded to 16) that the 4 x 4 cells of 150 px cut
  // across.
  const std::vector<std::string> model = {"--model", "synth_smallholder", "--tile-px",
                                          "200",     "--threads",         "2"};
  std::vector<std::string> single = {"-q",           "delineate",           d.file("scene.tif"),
                                     "--out",        d.file("single.gpkg"), "--probabilities",
                                     d.file("p.tif")};
  single.insert(single.end(), model.begin(), model.end());
  ok(test::runCli(single));
  const json rec = test::readJsonFile(d.file("single.gpkg.run.json"));
  EXPECT_EQ(rec["result"]["network_tile_px"], json({208, 208}));
  ok(test::runCli({"grid", "--images", d.file("scene.tif"), "--cell-m", "450", "--snap-to-extent",
                   "--out", d.file("grid.json")}));
  ASSERT_EQ(test::readJsonFile(d.file("grid.json"))["cells"].size(), 16u);
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> args = {
        "-q",          "delineate",     "--grid",          d.file("grid.json"), "--out-dir",
        d.file("out"), "--shard-index", std::to_string(i), "--shard-count",     "3"};
    args.insert(args.end(), model.begin(), model.end());
    ok(test::runCli(args));
  }
  ok(test::runCli({"merge", "--grid", d.file("grid.json"), "--in-dir", d.file("out"), "--out",
                   d.file("merged.gpkg")}));
  const test::CliResult cmp =
      compareFields(d.file("single.gpkg"), d.file("merged.gpkg"), d.file("grid.json"));
  EXPECT_EQ(cmp.exitCode, 0) << cmp.out << cmp.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmp.out, m, std::regex(R"((\d+) straddling a cell edge)")))
      << cmp.out;
  EXPECT_GT(std::stoi(m[1]), 20) << cmp.out;
}

}  // namespace
}  // namespace fieldseg
