// `--config FILE.json` beyond delineate (tools/cli/config_file.hpp): labels, evaluate, calibrate
// and grid take their flags from a file whose keys are the flag names, with the same result as
// the flags themselves; the command line wins; unknown keys are refused, named with the keys the
// command knows, and nothing is written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "failing_file_env.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using json = nlohmann::json;
using test::runCli;
using test::TempDir;

using test::runOk;

void writeJson(const std::string& path, const json& j) { std::ofstream(path) << j.dump(); }

// A 256 px synthetic scene and its truth in a temp folder, for each test.
class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(img, truth, 256, 5)); }
  TempDir d;
  const std::string img = d.file("s.tif"), truth = d.file("t.geojson");
};

TEST_F(ConfigFile, LabelsEvaluateCalibrateAndGridReadTheirFlagsFromAFile) {
  // labels: the same bytes from the file as from the flags.
  runOk({"-q", "labels", "--image", img, "--fields", truth, "--out", d.file("a.tif"),
         "--boundary-px", "2"});
  writeJson(d.file("labels.json"),
            {{"image", img}, {"fields", truth}, {"out", d.file("b.tif")}, {"boundary_px", 2}});
  runOk({"-q", "labels", "--config", d.file("labels.json")});
  EXPECT_EQ(test::fileBytes(d.file("a.tif")), test::fileBytes(d.file("b.tif")));

  // evaluate: the same report; a flag on the command line wins over the file.
  const auto byFlags =
      runCli({"-q", "evaluate", "--pred", truth, "--truth", truth, "--json", "--match-iou", "0.6"});
  ASSERT_EQ(byFlags.exitCode, 0) << byFlags.err;
  writeJson(d.file("eval.json"),
            {{"pred", truth}, {"truth", truth}, {"json", true}, {"match-iou", 0.9}});
  const auto byFile =
      runCli({"-q", "evaluate", "--config", d.file("eval.json"), "--match-iou", "0.6"});
  ASSERT_EQ(byFile.exitCode, 0) << byFile.err;
  EXPECT_EQ(json::parse(byFile.out)["objects"], json::parse(byFlags.out)["objects"]);

  // grid: the same manifest.
  runOk({"-q", "grid", "--images", img, "--cell-m", "400", "--out", d.file("g1.json")});
  writeJson(d.file("grid.json"), {{"images", {img}}, {"cell_m", 400}, {"out", d.file("g2.json")}});
  runOk({"-q", "grid", "--config", d.file("grid.json")});
  EXPECT_EQ(test::readJsonFile(d.file("g1.json"))["cells"],
            test::readJsonFile(d.file("g2.json"))["cells"]);

  // calibrate: unknown keys refused, every one named, with the keys it knows.
  writeJson(d.file("cal.json"), {{"probabilities-in", d.file("a.tif")},
                                 {"truth", truth},
                                 {"t_extent", 0.4},
                                 {"colour", "red"}});
  const auto before = test::entriesOf(d.path());
  const auto bad = runCli({"calibrate", "--config", d.file("cal.json")});
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.err.find("unknown keys \"colour\", \"t_extent\""), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("probabilities-in"), std::string::npos) << bad.err;
  EXPECT_EQ(test::entriesOf(d.path()), before) << "a refused call wrote a file";
}

// Each run record's "flags" come from the same declarations (resolvedFlags): every flag as given
// or defaulted, typed, and fed back as --config it repeats the run byte for byte.
TEST_F(ConfigFile, RunRecordFlagsAreTheDeclaredFlagsAndRepeatTheRun) {
  // labels: given flags as given, defaults as declared, switches as booleans.
  runOk({"-q", "labels", "--image", img, "--fields", truth, "--out", d.file("a.tif"),
         "--boundary-px", "3"});
  json flags = test::readJsonFile(d.file("a.tif.run.json"))["flags"];
  EXPECT_EQ(flags["image"], img);
  EXPECT_EQ(flags["boundary-px"], 3);
  EXPECT_EQ(flags["chip-px"], 256);        // declared default
  EXPECT_EQ(flags["min-labelled"], 0.05);  // declared default, a number
  EXPECT_EQ(flags["overwrite"], false);    // a switch
  EXPECT_FALSE(flags.contains("config"));
  EXPECT_FALSE(flags.contains("help"));
  flags["out"] = d.file("b.tif");
  writeJson(d.file("again.json"), flags);
  runOk({"-q", "labels", "--config", d.file("again.json")});
  EXPECT_EQ(test::fileBytes(d.file("a.tif")), test::fileBytes(d.file("b.tif")));

  // delineate (oracle probabilities): the record's flags repeat the run.
  runOk({"-q", "delineate", "--probabilities-in", d.file("a.tif"), "--out", d.file("f1.geojson"),
         "--t-ext", "0.45", "--tile-px", "256"});
  flags = test::readJsonFile(d.file("f1.geojson.run.json"))["flags"];
  EXPECT_EQ(flags["t-ext"], 0.45);
  EXPECT_EQ(flags["tile-px"], 256);
  EXPECT_EQ(flags["halo-px"], 64);
  flags["out"] = d.file("f2.geojson");
  writeJson(d.file("again2.json"), flags);
  runOk({"-q", "delineate", "--config", d.file("again2.json")});
  EXPECT_EQ(test::fileBytes(d.file("f1.geojson")), test::fileBytes(d.file("f2.geojson")));

  // grid: its record beside the manifest.
  runOk({"-q", "grid", "--images", img, "--cell-m", "400", "--out", d.file("g.json")});
  flags = test::readJsonFile(d.file("g.json.run.json"))["flags"];
  EXPECT_EQ(flags["cell-m"], 400);
  EXPECT_EQ(flags["shard-mode"], "round-robin");
  EXPECT_EQ(flags["images"], json::array({img}));
}

// The flags a command declares, as its --help lists them (positionals by name), without help and
// config.
std::set<std::string> declaredFlags(const std::string& command) {
  const auto r = runCli({command, "--help"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  std::set<std::string> out;
  const std::regex flag(R"(^  (?:-[a-z],)?--([a-z0-9-]+))"), positional(R"(^  ([a-z]+) TEXT)");
  std::istringstream lines(r.out);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line))
    if (std::regex_search(line, m, flag) || std::regex_search(line, m, positional))
      if (m[1] != "help" && m[1] != "config") out.insert(m[1]);
  return out;
}

// configs/README.md documents the --config keys of every command that takes them: its list for
// each command is exactly what the command declares.
TEST(ConfigFileDocs, ReadmeListsEveryDeclaredFlag) {
  std::ifstream f(std::string(FIELDSEG_SOURCE_DIR) + "/configs/README.md");
  ASSERT_TRUE(f) << "configs/README.md not found";
  std::map<std::string, std::set<std::string>> documented;
  std::string line;
  const std::regex item(R"(^- `([a-z-]+)`: (.*)$)");
  std::smatch m;
  while (std::getline(f, line))
    if (std::regex_match(line, m, item)) {
      std::istringstream keys(m[2].str());
      std::string k;
      while (std::getline(keys, k, ','))
        documented[m[1]].insert(k.substr(k.find_first_not_of(' ')));
    }
  for (const std::string cmd : {"delineate", "labels", "evaluate", "calibrate", "grid"}) {
    ASSERT_TRUE(documented.count(cmd)) << "configs/README.md has no key list for " << cmd;
    EXPECT_EQ(documented[cmd], declaredFlags(cmd)) << cmd;
  }
}

}  // namespace
}  // namespace fieldseg
