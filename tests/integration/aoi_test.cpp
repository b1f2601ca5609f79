// --aoi as a lon/lat box (minlon,minlat,maxlon,maxlat): the same fields as the same box given as a
// polygon file, fewer than the whole scene, each touching the box; a malformed box is a usage
// error naming the form.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "test_support.hpp"

using namespace fieldseg::test;
using nlohmann::json;

TEST(AoiBox, LonLatBoxSelectsLikeThePolygonFile) {
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 9));
  ASSERT_EQ(runCli({"-q", "labels", "--image", d.file("s.tif"), "--fields", d.file("t.geojson"),
                    "--out", d.file("p.tif")})
                .exitCode,
            0);
  const auto info = runCli({"info", d.file("s.tif"), "--json"});
  ASSERT_EQ(info.exitCode, 0) << info.err;
  const json b = json::parse(info.out)["bounds_lonlat"];
  const double x0 = b[0], y0 = b[1], x1 = b[2], y1 = b[3];
  // The middle quarter of the scene.
  const double bx0 = x0 + (x1 - x0) / 4, bx1 = x1 - (x1 - x0) / 4;
  const double by0 = y0 + (y1 - y0) / 4, by1 = y1 - (y1 - y0) / 4;
  char box[160];
  std::snprintf(box, sizeof box, "%.9f,%.9f,%.9f,%.9f", bx0, by0, bx1, by1);
  {
    std::ofstream f(d.file("box.geojson"));
    f.precision(12);
    f << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},)"
      << R"("geometry":{"type":"Polygon","coordinates":[[)"
      << "[" << bx0 << "," << by0 << "],[" << bx1 << "," << by0 << "],[" << bx1 << "," << by1
      << "],[" << bx0 << "," << by1 << "],[" << bx0 << "," << by0 << "]]]}}]}";
  }
  auto run = [&](const std::vector<std::string>& extra, const std::string& out) {
    std::vector<std::string> args{"-q",    "delineate", "--probabilities-in", d.file("p.tif"),
                                  "--out", d.file(out)};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = runCli(args);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return readJsonFile(d.file(out))["features"];
  };
  const json all = run({}, "all.geojson");
  const json byBox = run({"--aoi", box}, "box_flag.geojson");
  const json byFile = run({"--aoi", d.file("box.geojson")}, "box_file.geojson");
  ASSERT_GT(all.size(), 20u);
  EXPECT_GT(byBox.size(), 3u);
  EXPECT_LT(byBox.size(), all.size());
  EXPECT_EQ(byBox.size(), byFile.size());
  for (const auto& f : byBox) {
    double fx0 = 1e9, fy0 = 1e9, fx1 = -1e9, fy1 = -1e9;
    for (const auto& p : f["geometry"]["coordinates"][0]) {
      fx0 = std::min(fx0, p[0].get<double>());
      fx1 = std::max(fx1, p[0].get<double>());
      fy0 = std::min(fy0, p[1].get<double>());
      fy1 = std::max(fy1, p[1].get<double>());
    }
    EXPECT_TRUE(fx1 >= bx0 && fx0 <= bx1 && fy1 >= by0 && fy0 <= by1) << f["properties"].dump();
  }
  for (const std::string bad : {"30.4,-1.5,30.3,-1.4", "30,-1,200,1"}) {
    const auto r = runCli({"delineate", "--probabilities-in", d.file("p.tif"), "--out",
                           d.file("bad.geojson"), "--aoi", bad});
    EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("minlon,minlat,maxlon,maxlat"), std::string::npos) << r.err;
  }
}
