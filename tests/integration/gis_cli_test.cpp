// [gis] What a GIS user and a batch job expect of the CLI, end to end: the probabilities as a
// Cloud Optimized GeoTIFF with nodata, overviews, scale/offset and band names; quicklooks (enlarged
// small chips, header, scale bar, PNG or JPEG by extension); `--log-format json`; `-v` stage
// timings; `delineate --config`; per-date `--bands`; `--gsd auto|native`; one image syntax (a
// comma-separated stack of single-band files) for every command that reads imagery.
#include <gdal_priv.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::runCli;
using test::TempDir;

using test::runOk;

// A synth smallholder scene and oracle probabilities (`fieldseg labels` on its truth).
void scene(const TempDir& d, int size, const std::string& gsd = "") {
  std::vector<std::string> args{
      "-q",     "synth", "--preset", "smallholder",       "--size",  std::to_string(size),
      "--seed", "11",    "--out",    d.file("scene.tif"), "--truth", d.file("truth.geojson")};
  if (!gsd.empty()) args.insert(args.end(), {"--gsd", gsd});
  runOk(args);
  runOk({"-q", "labels", "--image", d.file("scene.tif"), "--fields", d.file("truth.geojson"),
         "--out", d.file("labels.tif")});
}

bool builtWithTorch() {
  const auto r = runCli({"models", "list"});
  return r.exitCode == 0 && r.out.find("synth_smallholder") != std::string::npos;
}

struct ImageSize {
  int cols = 0, rows = 0;
};
ImageSize imageSize(const std::string& path) {
  GDALAllRegister();
  std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER));
  if (!ds) return {};
  return {ds->GetRasterXSize(), ds->GetRasterYSize()};
}

TEST(GisCli, ProbabilitiesCarryNodataOverviewsScaleAndBandNames) {
  if (!builtWithTorch()) GTEST_SKIP() << "built without LibTorch";
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 600));
  // A 64 x 64 nodata corner: no date covers it, so the probabilities must say nodata there.
  {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(
        GDALDataset::Open(d.file("scene.tif").c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
    ASSERT_TRUE(ds);
    ASSERT_EQ(ds->GetRasterBand(1)->GetRasterDataType(), GDT_UInt16);
    std::vector<float> nodata(64 * 64, 65535.0f);
    for (int b = 1; b <= ds->GetRasterCount(); ++b) {
      ds->GetRasterBand(b)->SetNoDataValue(65535);
      ASSERT_EQ(ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, 64, 64, nodata.data(), 64, 64,
                                               GDT_Float32, 0, 0, nullptr),
                CE_None);
    }
  }
  runOk({"delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
         d.file("f.gpkg"), "--probabilities", d.file("p.tif"), "--threads", "2"});
  std::unique_ptr<GDALDataset> ds(GDALDataset::Open(d.file("p.tif").c_str(), GDAL_OF_RASTER));
  ASSERT_TRUE(ds);
  ASSERT_EQ(ds->GetRasterCount(), 3);
  const char* layout = ds->GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE");
  EXPECT_STREQ(layout ? layout : "", "COG") << "a Cloud Optimized GeoTIFF";
  const char* names[] = {"extent", "boundary", "distance"};
  for (int b = 1; b <= 3; ++b) {
    GDALRasterBand* band = ds->GetRasterBand(b);
    SCOPED_TRACE(b);
    EXPECT_STREQ(band->GetDescription(), names[b - 1]);
    int has = 0;
    EXPECT_EQ(band->GetNoDataValue(&has), 255.0);
    EXPECT_TRUE(has);
    EXPECT_NEAR(band->GetScale(), 1.0 / 254.0, 1e-12);
    EXPECT_EQ(band->GetOffset(), 0.0);
    EXPECT_GE(band->GetOverviewCount(), 1) << "no internal overviews";
    EXPECT_EQ(band->GetMaskFlags(), GMF_NODATA) << "the nodata value, not a mask band, marks gaps";
    std::vector<std::uint8_t> v(600 * 600);
    ASSERT_EQ(band->RasterIO(GF_Read, 0, 0, 600, 600, v.data(), 600, 600, GDT_Byte, 0, 0, nullptr),
              CE_None);
    long long nodata = 0, valid = 0;
    for (int y = 0; y < 600; ++y)
      for (int x = 0; x < 600; ++x) {
        const std::uint8_t p = v[static_cast<size_t>(y) * 600 + x];
        if (x < 64 && y < 64) {
          nodata += p == 255;
        } else {
          valid += p <= 254;
        }
      }
    EXPECT_EQ(nodata, 64 * 64) << "the uncovered corner is nodata";
    EXPECT_EQ(valid, 600LL * 600 - 64 * 64) << "covered pixels hold 0..254";
  }
}

TEST(GisCli, QuicklookIsEnlargedHasHeaderAndTheExtensionDecidesTheFormat) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  runOk({"-q", "render", "--image", d.file("scene.tif"), "--fields", d.file("truth.geojson"),
         "--out", d.file("q.png")});
  const ImageSize q = imageSize(d.file("q.png"));
  EXPECT_EQ(q.cols, 512) << "a 256 px chip is enlarged 2x to the default --min-side 512";
  EXPECT_GT(q.rows, 512) << "a header strip sits above the image";
  EXPECT_LT(q.rows, 560);

  runOk({"-q", "render", "--image", d.file("scene.tif"), "--fields", d.file("truth.geojson"),
         "--out", d.file("q.jpg"), "--title", "Rwanda test"});
  std::ifstream jpg(d.file("q.jpg"), std::ios::binary);
  unsigned char magic[3] = {0, 0, 0};
  jpg.read(reinterpret_cast<char*>(magic), 3);
  EXPECT_TRUE(magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) << "not JPEG bytes";

  runOk({"-q", "render", "--image", d.file("scene.tif"), "--fields", d.file("truth.geojson"),
         "--out", d.file("plain.png"), "--plain", "--min-side", "0"});
  const ImageSize p = imageSize(d.file("plain.png"));
  EXPECT_EQ(p.cols, 256);
  EXPECT_EQ(p.rows, 256);

  const auto r = runCli({"render", "--image", d.file("scene.tif"), "--fields",
                         d.file("truth.geojson"), "--out", d.file("q.gif")});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("Use .png or .jpg"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("q.gif")));
}

TEST(GisCli, LogFormatJsonPrintsOneObjectPerLine) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  auto r = runCli({"--log-format", "json", "delineate", d.file("scene.tif"), "--probabilities-in",
                   d.file("labels.tif"), "--out", d.file("f.geojson"), "-v"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream lines(r.err);
  std::string line;
  int events = 0, details = 0;
  while (std::getline(lines, line)) {
    SCOPED_TRACE(line);
    const json j = json::parse(line);  // throws (and fails) on a line that is not JSON
    ASSERT_TRUE(j.contains("time") && j.contains("level"));
    EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
    if (j["level"] == "detail") ++details;
    if (j["level"] != "progress") {
      EXPECT_EQ(j.value("command", ""), "delineate");
    }
    ++events;
  }
  EXPECT_GE(events, 2);
  EXPECT_GE(details, 1) << "-v after the subcommand adds the stage timings";
  // An error is an object too, with the exit code.
  r = runCli({"delineate", "--log-format", "json", "--probabilities-in", d.file("labels.tif"),
              "--out", d.file("f.txt")});
  EXPECT_EQ(r.exitCode, 2);
  const json e = json::parse(r.err.substr(0, r.err.find('\n')));
  EXPECT_EQ(e["level"], "error");
  EXPECT_EQ(e["exit_code"], 2);
  EXPECT_NE(e["message"].get<std::string>().find("unknown extension"), std::string::npos);
}

TEST(GisCli, VerbosePrintsStageTimings) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  auto r = runCli({"delineate", d.file("scene.tif"), "--probabilities-in", d.file("labels.tif"),
                   "--out", d.file("f.geojson"), "-v"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("stages: statistics"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fields/s"), std::string::npos) << r.err;
  r = runCli({"delineate", d.file("scene.tif"), "--probabilities-in", d.file("labels.tif"), "--out",
              d.file("g.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err.find("stages:"), std::string::npos) << "timings only with -v: " << r.err;
}

// -v with a network also says what ran it: the precision and oneDNN's kernels, as run.json.
TEST(GisCli, VerboseNamesTheNetworksKernels) {
  if (!builtWithTorch()) GTEST_SKIP() << "built without LibTorch";
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  auto r = runCli({"delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
                   d.file("n.geojson"), "-v"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::ifstream in(d.file("n.geojson.run.json"));
  const json config = json::parse(in)["config"];
  const std::string kernels = config["network_kernels"].get<std::string>();
  EXPECT_EQ(kernels.rfind("oneDNN ", 0), 0u) << kernels;
  EXPECT_NE(r.err.find("delineate: network: " + config["precision"].get<std::string>()),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(kernels), std::string::npos) << r.err;
  r = runCli({"delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
              d.file("q.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err.find("delineate: network:"), std::string::npos) << "only with -v: " << r.err;
}

TEST(GisCli, DelineateConfigFileGivesFlagsTheCommandLineWinsUnknownKeysRefused) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  {
    std::ofstream c(d.file("c.json"));
    c << json{{"images", {d.file("scene.tif")}},
              {"probabilities-in", d.file("labels.tif")},
              {"out", d.file("f.geojson")},
              {"min_area_m2", 250},
              {"tile-px", 128},
              {"overwrite", true}}
             .dump();
  }
  runOk({"-q", "delineate", "--config", d.file("c.json")});
  json rec = test::readJsonFile(d.file("f.geojson.run.json"));
  EXPECT_EQ(rec["config"]["min_area_m2"], 250.0);
  EXPECT_EQ(rec["config"]["tile_px"], 128);
  EXPECT_EQ(rec["config"]["overwrite"], true);
  EXPECT_FALSE(rec["inputs"]["config"].is_null());
  // The command line wins over the file.
  runOk({"-q", "delineate", "--config", d.file("c.json"), "--min-area-m2", "300"});
  rec = test::readJsonFile(d.file("f.geojson.run.json"));
  EXPECT_EQ(rec["config"]["min_area_m2"], 300.0);
  // Unknown keys: all named, nothing written.
  {
    std::ofstream c(d.file("bad.json"));
    c << json{{"probabilities-in", d.file("labels.tif")},
              {"out", d.file("g.geojson")},
              {"tile_pix", 128},
              {"colour", "red"}}
             .dump();
  }
  const auto r = runCli({"delineate", "--config", d.file("bad.json")});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("unknown keys \"colour\", \"tile_pix\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tile-px"), std::string::npos) << "lists the keys it knows: " << r.err;
  EXPECT_FALSE(fs::exists(d.file("g.geojson")));
  // A switch given a number.
  {
    std::ofstream c(d.file("bad2.json"));
    c << json{
        {"probabilities-in", d.file("labels.tif")},
        {"out", d.file("g.geojson")},
        {"overwrite",
         1}}.dump();
  }
  EXPECT_EQ(runCli({"delineate", "--config", d.file("bad2.json")}).exitCode, 2);
  EXPECT_EQ(runCli({"delineate", "--config", d.file("missing.json")}).exitCode, 2);
}

TEST(GisCli, PerDateBandsReadTwoDatesFromOneFile) {
  if (!builtWithTorch()) GTEST_SKIP() << "built without LibTorch";
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  // An 8-band file holding the same 4-band date twice (a two-date Sentinel-2 stack's shape).
  auto r = test::runShell("gdal_translate -q -b 1 -b 2 -b 3 -b 4 -b 1 -b 2 -b 3 -b 4 " +
                          d.file("scene.tif") + " " + d.file("two_dates.tif"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  runOk({"-q", "delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
         d.file("one.geojson"), "--threads", "2"});
  runOk({"-q", "delineate", d.file("two_dates.tif"), "--bands", "1,2,3,4", "--bands", "5,6,7,8",
         "--model", "synth_smallholder", "--out", d.file("two.geojson"), "--threads", "2"});
  const json rec = test::readJsonFile(d.file("two.geojson.run.json"));
  EXPECT_EQ(rec["config"]["bands"], json({{"1", "2", "3", "4"}, {"5", "6", "7", "8"}}));
  EXPECT_EQ(rec["inputs"]["images"].size(), 1u);
  // Two identical dates average to the one date: the same fields.
  const FieldSet one = readFields(d.file("one.geojson")), two = readFields(d.file("two.geojson"));
  ASSERT_GT(one.fields.size(), 5u);
  EXPECT_EQ(one.fields.size(), two.fields.size());
  // Two images, three selections: refused.
  r = runCli({"delineate", d.file("scene.tif"), d.file("scene.tif"), "--bands", "1,2,3,4",
              "--bands", "1,2,3,4", "--bands", "1,2,3,4", "--model", "synth_smallholder", "--out",
              d.file("bad.geojson")});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("3 --bands for 2 images"), std::string::npos) << r.err;
}

TEST(GisCli, GsdAutoResamplesIntoTheModelRangeNativeOptsOut) {
  if (!builtWithTorch()) GTEST_SKIP() << "built without LibTorch";
  TempDir d;
  // 10 m: outside synth_smallholder's 3-6 m range.
  ASSERT_NO_FATAL_FAILURE(scene(d, 200, "10"));
  auto r = runCli({"delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
                   d.file("auto.gpkg"), "--threads", "2"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("resampling on read to 6.00 m"), std::string::npos) << r.err;
  json rec = test::readJsonFile(d.file("auto.gpkg.run.json"));
  EXPECT_EQ(rec["config"]["gsd"], "auto");
  EXPECT_NEAR(rec["config"]["gsd_m"].get<double>(), 6.0, 1e-9);
  EXPECT_NEAR(rec["result"]["gsd_m"].get<double>(), 6.0, 0.05);
  EXPECT_FALSE(rec["config"]["gsd_note"].is_null());
  // The fields stay in the image's CRS.
  const Crs imageCrs = openRaster({d.file("scene.tif")})->grid().crs();
  EXPECT_TRUE(readFields(d.file("auto.gpkg")).crs.sameAs(imageCrs));

  r = runCli({"delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
              d.file("native.gpkg"), "--gsd", "native", "--threads", "2"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("warning: image GSD 10.00 m is outside"), std::string::npos) << r.err;
  rec = test::readJsonFile(d.file("native.gpkg.run.json"));
  EXPECT_EQ(rec["config"]["gsd_m"], "native");
  EXPECT_NEAR(rec["result"]["gsd_m"].get<double>(), 10.0, 0.05);

  // calibrate resamples the same way, so its thresholds fit what delineate reads.
  r = runCli({"calibrate", "--model", "synth_smallholder", "--image", d.file("scene.tif"),
              "--truth", d.file("truth.geojson"), "--t-ext", "0.4", "--t-bound", "0.2",
              "--min-area-m2", "100", "--threads", "2"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("resampling on read to 6.00 m"), std::string::npos) << r.err;

  r = runCli({"delineate", d.file("scene.tif"), "--model", "synth_smallholder", "--out",
              d.file("x.gpkg"), "--gsd", "fine"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("--gsd"), std::string::npos) << r.err;
}

TEST(GisCli, EveryImageCommandTakesACommaSeparatedStackOfSingleBandFiles) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 128));
  std::string stack;
  for (int b = 1; b <= 4; ++b) {
    const std::string f = d.file("B0" + std::to_string(b) + ".tif");
    const auto r = test::runShell("gdal_translate -q -b " + std::to_string(b) + " " +
                                  d.file("scene.tif") + " " + f);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    stack += (stack.empty() ? "" : ",") + f;
  }
  auto r = runCli({"info", stack, "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["bands"].size(), 4u) << r.out;
  runOk({"-q", "labels", "--image", stack, "--fields", d.file("truth.geojson"), "--out",
         d.file("l.tif")});
  EXPECT_EQ(openRaster({d.file("l.tif")})->bands().size(), 4u);
  runOk({"-q", "render", "--image", stack, "--fields", d.file("truth.geojson"), "--out",
         d.file("q.png")});
  runOk({"-q", "delineate", stack, "--probabilities-in", d.file("labels.tif"), "--out",
         d.file("f.geojson")});
}

TEST(GisCli, DatetimeFlagStampsEveryFieldInUtc) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(scene(d, 256));
  runOk({"-q", "delineate", d.file("scene.tif"), "--probabilities-in", d.file("labels.tif"),
         "--out", d.file("f.geojson"), "--datetime", "2021-08-01T01:30:00+02:00"});
  const json fc = test::readJsonFile(d.file("f.geojson"));
  ASSERT_GT(fc["features"].size(), 5u);
  for (const auto& f : fc["features"])
    ASSERT_EQ(f["properties"]["determination_datetime"], "2021-07-31T23:30:00Z");
  const auto r =
      runCli({"delineate", d.file("scene.tif"), "--probabilities-in", d.file("labels.tif"), "--out",
              d.file("g.geojson"), "--datetime", "August 2021"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("not an ISO 8601 date"), std::string::npos) << r.err;
}

TEST(GisCli, EveryNewFlagHasAHelpLine) {
  const auto top = runCli({"--help"});
  EXPECT_NE(top.out.find("--log-format"), std::string::npos) << top.out;
  const auto del = runCli({"delineate", "--help"});
  for (const char* flag :
       {"--config", "--gsd", "--bands", "--precision", "--probabilities", "--datetime", "--aoi"})
    EXPECT_NE(del.out.find(flag), std::string::npos) << flag;
  const auto ren = runCli({"render", "--help"});
  for (const char* flag : {"--min-side", "--title", "--plain", ".jpg"})
    EXPECT_NE(ren.out.find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace fieldseg
