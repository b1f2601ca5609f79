// [reliability] bad-input matrix, sizes and numbers: tiny inputs that declare huge work (a VRT of
// 1e16 pixels, --gsd 0.01, a huge --window, a 22-byte model declaring a 4 GiB card, a card asking
// for a 100000-channel network, an origin at 1e308) and out-of-range options are refused at once
// with one line, the right exit code, no "internal error" and no file written (a hang would show
// as the ctest timeout).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

namespace {

std::set<std::string> names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// A VRT declaring `side` x `side` pixels of 3 Byte bands with no sources (reads as zeros).
void writeHugeVrt(const std::string& path, long long side) {
  std::ofstream f(path);
  f << "<VRTDataset rasterXSize=\"" << side << "\" rasterYSize=\"" << side << "\">\n"
    << "  <SRS>EPSG:32736</SRS>\n  <GeoTransform>500000, 1, 0, 9800000, 0, -1</GeoTransform>\n";
  for (int b = 1; b <= 3; ++b) f << "  <VRTRasterBand dataType=\"Byte\" band=\"" << b << "\"/>\n";
  f << "</VRTDataset>\n";
}

// A model file: magic, format version 2, then a card section of `declared` bytes holding `card`
// (and no weights when the card is shorter than declared).
void writeModel(const std::string& path, const std::string& card, unsigned long long declared) {
  std::string s = "FSGMODEL";
  s += std::string("\x02\x00\x00\x00", 4);
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((declared >> (8 * i)) & 0xff));
  s += card;
  if (declared == card.size()) s += std::string(8, '\0');  // empty weights section
  std::ofstream(path, std::ios::binary) << s;
}

struct Case {
  std::string name;
  std::vector<std::string> args;
  int exitCode;
  std::string expect;
};

// Model files whose cards lie (a 4 GiB size, absurd widths, values of the wrong type).
void writeBrokenModels(const test::TempDir& dir) {
  writeModel(dir.file("tiny.fsm"), "{}", 4ull << 30);
  const std::string card = R"({"architecture":{"type":"residual_unet","width":100000,"depth":4},)"
                           R"("input_bands":["red","green","blue","nir"]})";
  writeModel(dir.file("wide.fsm"), card, card.size());
  const std::string typed =
      R"({"architecture":{"type":"residual_unet","width":"sixteen","depth":4},)"
      R"("input_bands":["red"]})";
  writeModel(dir.file("typed.fsm"), typed, typed.size());
  const std::string thresholds = R"({"thresholds":{"t_ext":7}})";
  writeModel(dir.file("thresholds.fsm"), thresholds, thresholds.size());
  const std::string height = R"({"thresholds":{"t_ext":0.4,"marker_h":"high"}})";
  writeModel(dir.file("height.fsm"), height, height.size());
  const std::string gsd = R"({"gsd_range_m":["a","b"],"input_bands":["red"]})";
  writeModel(dir.file("gsd.fsm"), gsd, gsd.size());
  const std::string array = R"([1,2,3])";
  writeModel(dir.file("array.fsm"), array, array.size());
  const std::string name = R"({"name":{"x":1},"input_bands":["red"]})";
  writeModel(dir.file("name.fsm"), name, name.size());
}

// Each case exits with its code and message, as one error line, and writes nothing.
void expectRefused(const test::TempDir& dir, const std::vector<Case>& cases) {
  const auto before = names(dir.path());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const test::CliResult r = test::runCli(c.args);
    EXPECT_EQ(r.exitCode, c.exitCode) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    // The error is one line, the last: "fieldseg: <message>\n" (notes of the run come before it).
    const size_t at = r.err.rfind("fieldseg: ");
    ASSERT_NE(at, std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n', at), r.err.size() - 1) << r.err;
    EXPECT_EQ(r.err.find("fieldseg: "), at) << "more than one error line: " << r.err;
    EXPECT_EQ(names(dir.path()), before) << "a refused call wrote a file";
  }
}

}  // namespace

TEST(BadInputsSizes, HugeDeclaredWorkAndOutOfRangeNumbersAreRefusedAtOnce) {
  test::TempDir dir;
  const std::string img = dir.file("s.tif"), truth = dir.file("s.geojson");
  ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(img, truth, 256, 5));
  writeHugeVrt(dir.file("huge.vrt"), 100000000);
  writeBrokenModels(dir);
  const std::string out = dir.file("o.geojson");
  const std::vector<Case> cases = {
      {"VRT declaring 1e16 px",
       {"delineate", "--probabilities-in", dir.file("huge.vrt"), "--out", out},
       2,
       "above the budget of 4000 Mpx"},
      {"labels --gsd 0.01",
       {"labels", "--image", img, "--fields", truth, "--out", dir.file("l.tif"), "--gsd", "0.01"},
       2,
       "above the budget of 250 Mpx"},
      {"info --window huge",
       {"info", img, "--window", "0,0,100000,100000"},
       2,
       "above the budget of 100 Mpx"},
      {"model declaring a 4 GiB card",
       {"delineate", img, "--model", dir.file("tiny.fsm"), "--out", out},
       1,
       "truncated model file"},
      {"card width 100000",
       {"delineate", img, "--model", dir.file("wide.fsm"), "--out", out},
       1,
       "invalid architecture (width 100000"},
      {"card value of the wrong type",
       {"delineate", img, "--model", dir.file("typed.fsm"), "--out", out},
       1,
       "lacks a valid architecture"},
      {"card threshold out of range: the card is blamed, not a flag",
       {"delineate", img, "--model", dir.file("thresholds.fsm"), "--out", out},
       1,
       "thresholds.t_ext = 7 is not a number in [0, 1]"},
      {"card threshold of the wrong type, in calibrate",
       {"calibrate", "--model", dir.file("height.fsm"), "--image", img, "--truth", truth},
       1,
       "thresholds.marker_h = \"high\" is not a number in (0, 1)"},
      {"card gsd_range_m of the wrong type: named, before any output",
       {"delineate", img, "--model", dir.file("gsd.fsm"), "--out", out},
       1,
       "gsd.fsm': gsd_range_m = [\"a\",\"b\"] is not [min, max]"},
      {"card that is a JSON array",
       {"delineate", img, "--model", dir.file("array.fsm"), "--out", out},
       1,
       "array.fsm' is not a JSON object"},
      {"card name of the wrong type",
       {"delineate", img, "--model", dir.file("name.fsm"), "--out", out},
       1,
       "name.fsm': name is object, not a string"},
      {"delineate --gsd 0.01 (the pixel budget)",
       {"delineate", img, "--model", "synth_smallholder", "--out", out, "--gsd", "0.01"},
       2,
       "above the budget"},
      {"calibrate --gsd 0.01 (the pixel budget)",
       {"calibrate", "--model", "synth_smallholder", "--image", img, "--truth", truth, "--gsd",
        "0.01"},
       2,
       "above the budget"},
      {"calibrate on a VRT declaring 1e16 px",
       {"calibrate", "--probabilities-in", dir.file("huge.vrt"), "--truth", truth},
       2,
       "above the budget"},
      {"grid --origin 1e308",
       {"grid", "--images", img, "--origin", "1e308,1e308", "--out", dir.file("g.json")},
       2,
       "lies more than 1e12 cells"},
      {"--tile-px 100000",
       {"delineate", "--probabilities-in", img, "--out", out, "--tile-px", "100000"},
       2,
       "--tile-px: Value 100000 not in range"},
      {"--line-width 0",
       {"render", "--image", img, "--fields", truth, "--out", dir.file("q.png"), "--line-width",
        "0"},
       2,
       "--line-width: Value 0 not in range"},
      {"--border-m -1",
       {"labels", "--image", img, "--fields", truth, "--out", dir.file("l.tif"), "--border-m",
        "-1"},
       2,
       "--border-m: Value -1 not in range"},
      {"--line-width -1",
       {"render", "--image", img, "--fields", truth, "--out", dir.file("q.png"), "--line-width",
        "-1"},
       2,
       "--line-width: Value -1 not in range"},
      {"--border-m -0.5",
       {"labels", "--image", img, "--fields", truth, "--out", dir.file("l.tif"), "--border-m",
        "-0.5"},
       2,
       "--border-m: Value -0.5 not in range"},
      {"--gsd 0",
       {"delineate", "--probabilities-in", img, "--out", out, "--gsd", "0"},
       2,
       "--gsd: Value 0 not in range"},
  };
  expectRefused(dir, cases);
}
