// [reliability] bad-input matrix, messages and leftovers: a truncated TIFF is called truncated
// (not "no georeferencing"); a vector file without a CRS is refused by render; NaN/Inf in given
// probabilities are masked, counted and reported, and all-NaN probabilities are nothing to
// calibrate on; an output that would overwrite the run record is refused; a model card that is not
// JSON is named; a killed calibrate's scratch folder is removed by the next run.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;
using namespace fieldseg::test;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A Float32 copy of the probabilities `src` (read through their scale, so values are p) with NaN
// where nan(x, y) (Inf on every 7th column of those).
void floatProbsWithNan(const std::string& src, const std::string& dst,
                       const std::function<bool(int, int)>& nan) {
  auto in = openRaster({src});
  Raster<float> r = in->read(in->grid().fullWindow());
  for (int b = 0; b < r.bands; ++b)
    for (int y = 0; y < r.rows; ++y)
      for (int x = 0; x < r.cols; ++x)
        if (nan(x, y))
          r.at(b, y, x) = (x % 7 == 0) ? std::numeric_limits<float>::infinity()
                                       : std::numeric_limits<float>::quiet_NaN();
  GeoTiffWriter w(dst, in->grid(), r.bands, GeoTiffWriter::Type::Float32,
                  {"extent", "boundary", "distance"});
  w.write(0, 0, r);
  w.close();
}

}  // namespace

TEST(BadInputsMessages, TruncatedTiffNoCrsVectorAndBadCardAreNamedForWhatTheyAre) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 3));
  {
    const std::string bytes = slurp(d.file("s.tif"));
    std::ofstream(d.file("trunc.tif"), std::ios::binary) << bytes.substr(0, 300);
  }
  auto r = runCli({"info", d.file("trunc.tif")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("is truncated or corrupt"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("georeferencing"), std::string::npos) << r.err;

  // A shapefile without its .prj: no CRS. render must not guess the image's.
  r = runShell("ogr2ogr -f 'ESRI Shapefile' '" + d.file("t.shp") + "' '" + d.file("t.geojson") +
               "' && rm '" + d.file("t.prj") + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = runCli({"render", "--image", d.file("s.tif"), "--fields", d.file("t.shp"), "--out",
              d.file("q.png")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("have no CRS"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("q.png")));

  // A model file whose card is not JSON: info names the file (it used to print a generic line).
  {
    std::string s = "FSGMODEL";
    s += std::string("\x02\x00\x00\x00", 4);
    const std::string card = "{\"name\": nope";
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((card.size() >> (8 * i)) & 0xff));
    s += card + std::string(8, '\0');
    std::ofstream(d.file("bad.fsm"), std::ios::binary) << s;
  }
  r = runCli({"info", d.file("bad.fsm")});
  if (r.err.find("fieldseg model") == std::string::npos && r.exitCode == 0)
    GTEST_SKIP() << "built without LibTorch: info does not read model files";
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("the model card of '" + d.file("bad.fsm") + "' is not JSON"),
            std::string::npos)
      << r.err;
}

TEST(BadInputsMessages, NanInGivenProbabilitiesIsCountedAndAllNanIsRefused) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 3));
  auto r = runCli({"-q", "delineate", d.file("s.tif"), "--model", "synth_smallholder", "--out",
                   d.file("f.geojson"), "--probabilities", d.file("p.tif")});
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  floatProbsWithNan(d.file("p.tif"), d.file("pnan.tif"),
                    [](int x, int y) { return x < 64 && y < 64; });
  floatProbsWithNan(d.file("p.tif"), d.file("pall.tif"), [](int, int) { return true; });

  r = runCli({"delineate", "--probabilities-in", d.file("pnan.tif"), "--out", d.file("n.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 4096 pixel-dates hold NaN/Inf values"), std::string::npos)
      << r.err;
  const auto rec = nlohmann::json::parse(slurp(d.file("n.geojson.run.json")));
  EXPECT_EQ(rec["result"]["nan_inf_pixels_masked"].get<long long>(), 4096);

  r = runCli({"delineate", "--probabilities-in", d.file("pall.tif"), "--out", d.file("a.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("every pixel of the input is nodata"), std::string::npos) << r.err;

  // Calibrating on all-NaN probabilities would pick a "best" at IoU 0 and rewrite the card.
  r = runCli({"calibrate", "--probabilities-in", d.file("pall.tif"), "--truth", d.file("t.geojson"),
              "--model", "synth_smallholder", "--out", d.file("card.fsm")});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("pall.tif' is nodata (nodata value, mask, or NaN/Inf)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(d.file("card.fsm")));
}

TEST(BadInputsMessages, OutputsThatWouldCollideAreRefusedBeforeAnyWork) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 3));
  // The probabilities named as the fields' own run record: one would replace the other.
  auto r = runCli({"delineate", d.file("s.tif"), "--model", "synth_smallholder", "--out",
                   d.file("f.geojson"), "--probabilities", d.file("f.geojson.run.json")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("is the same file as --out's run record"), std::string::npos) << r.err;
  // --probabilities with --probabilities-in: there are no network probabilities to write.
  r = runCli({"delineate", "--probabilities-in", d.file("s.tif"), "--out", d.file("g.geojson"),
              "--probabilities", d.file("new.tif")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("Drop --probabilities"), std::string::npos) << r.err;
  // --gsd with --probabilities-in: nothing would be resampled (it used to be ignored silently).
  r = runCli({"delineate", "--probabilities-in", d.file("s.tif"), "--out", d.file("g.geojson"),
              "--gsd", "5"});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("Drop --gsd"), std::string::npos) << r.err;
  for (const char* f : {"f.geojson", "f.geojson.run.json", "g.geojson", "new.tif"})
    EXPECT_FALSE(fs::exists(d.file(f))) << f;
}

TEST(BadInputsMessages, AKilledCalibrateLeavesAScratchFolderTheNextRunRemoves) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 3));
  fs::create_directory(d.file("tmp"));
  const std::string cal = "TMPDIR='" + d.file("tmp") + "' '" + FIELDSEG_CLI +
                          "' calibrate --model synth_smallholder --image '" + d.file("s.tif") +
                          "' --truth '" + d.file("t.geojson") +
                          "' --t-ext 0.5 --t-bound 0.5 --min-area-m2 0";
  // Kill once the scratch folder has appeared (polled, not a fixed sleep: start-up time varies by
  // machine), before calibrate is done with it.
  const std::string tmp = "'" + d.file("tmp") + "'";
  auto r =
      runShell("(" + cal + " -q) & p=$!; i=0; while [ -z \"$(ls -A " + tmp +
               ")\" ] && kill -0 $p 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1));" +
               " done; if kill -9 $p 2>/dev/null; then echo killed; fi; wait $p; true");
  if (r.out.find("killed") == std::string::npos)
    GTEST_SKIP() << "calibrate finished before the kill (or has no LibTorch): nothing to test";
  int left = 0;
  for (const auto& e : fs::directory_iterator(d.file("tmp"))) left += e.is_directory() ? 1 : 0;
  ASSERT_EQ(left, 1) << "the killed run's scratch folder";
  r = runShell(cal + " 2>&1");
  ASSERT_EQ(r.exitCode, 0) << r.out;
  EXPECT_NE(r.out.find("removed 1 scratch folder(s) of killed runs"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(d.file("tmp")));
}
