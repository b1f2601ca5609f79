// [reliability] bad-input matrix, paths: an output that names an input (or another output) is
// refused before anything is written, whatever spelling reaches the same file. Each case asserts
// the exit code, a one-line message naming both flags, no "internal error" and that the folder
// holds exactly the files it held before.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

namespace {

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out.insert(e.path().string() + ":" +
               (e.is_regular_file() ? std::to_string(fs::file_size(e.path())) : "dir"));
  return out;
}

struct Case {
  std::string name;
  std::vector<std::string> args;
  std::string expect;  // substring of the one-line message
};

}  // namespace

TEST(BadInputsPaths, AnOutputThatNamesAnInputIsRefusedAndNothingIsWritten) {
  test::TempDir dir;
  const std::string img = dir.file("s.tif"), truth = dir.file("s.geojson");
  ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(img, truth, 96, 5));
  test::CliResult r;
  fs::create_directories(dir.file("sub"));
  r = test::runCli({"-q", "grid", "--images", img, "--cell-m", "200", "--out", dir.file("g.json")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  const std::string viaDots = dir.file("sub/../s.tif");

  const std::vector<Case> cases = {
      {"labels --out = --image",
       {"labels", "--image", img, "--fields", truth, "--out", img, "--overwrite"},
       "--out '" + img + "' is the same file as --image"},
      {"labels --out = --fields through ..",
       {"labels", "--image", img, "--fields", truth, "--out", dir.file("sub/../s.geojson"),
        "--overwrite"},
       "is the same file as --fields"},
      {"delineate --out = --probabilities-in",
       {"delineate", "--probabilities-in", img, "--out", viaDots, "--overwrite"},
       "is the same file as --probabilities-in"},
      {"delineate --probabilities = IMAGE",
       {"delineate", img, "--model", model, "--out", dir.file("f.geojson"), "--probabilities",
        viaDots, "--overwrite"},
       "--probabilities '" + viaDots + "' is the same file as IMAGE"},
      {"delineate --probabilities = --out",
       {"delineate", "--probabilities-in", img, "--out", dir.file("x.geojson"), "--probabilities",
        dir.file("x.geojson"), "--overwrite"},
       "is the same file as --out"},
      {"evaluate --per-field = --truth",
       {"evaluate", "--pred", truth, "--truth", truth, "--per-field", truth, "--overwrite"},
       "--per-field '" + truth + "' is the same file as --pred"},
      {"render --out = --image",
       {"render", "--image", img, "--fields", truth, "--out", img},
       "is the same file as --image"},
      {"grid --out = --images",
       {"grid", "--images", img, "--cell-m", "200", "--out", img, "--overwrite"},
       "is the same file as --images"},
      {"merge --out = --grid",
       {"merge", "--grid", dir.file("g.json"), "--in-dir", dir.path(), "--out", dir.file("g.json"),
        "--overwrite"},
       "is the same file as --grid"},
      {"calibrate --report = --truth",
       {"calibrate", "--probabilities-in", img, "--truth", truth, "--report", truth},
       "--report '" + truth + "' is the same file as --truth"},
      {"synth --truth = --out",
       {"synth", "--preset", "smallholder", "--size", "96", "--out", img, "--truth", img,
        "--overwrite"},
       "--truth '" + img + "' is the same file as --out"},
  };
  const auto before = listing(dir.path());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    r = test::runCli(c.args);
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(listing(dir.path()), before) << "a refused call changed the folder";
  }
}

TEST(BadInputsPaths, CalibrateAndTrainCheckTheOutputFolderBeforeWorking) {
  test::TempDir dir;
  const std::string img = dir.file("s.tif"), truth = dir.file("s.geojson");
  ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(img, truth, 96, 5));
  test::CliResult r;
  const std::string src = FIELDSEG_SOURCE_DIR;
  const std::string missing = dir.file("no/such/folder/m.fsm");
  r = test::runCli({"calibrate", "--model", src + "/models/smallholder.fsm", "--probabilities-in",
                    img, "--truth", truth, "--out", missing});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("--out '" + missing + "': folder"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = test::runCli({"calibrate", "--probabilities-in", img, "--truth", truth, "--report",
                    dir.file("no/such/folder/r.json")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = test::runCli({"train", "--config", src + "/configs/smallholder_rw.json", "--out", missing});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("no")));
}
