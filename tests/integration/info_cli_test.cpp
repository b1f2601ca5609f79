// `fieldseg info` through the real executable: reports on the acceptance rasters (real data,
// skipped where absent), JSON on stdout, and error cases that must give one line and exit 1 or 2.
#include <fstream>
#include <nlohmann/json.hpp>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

using fieldseg::test::realdataDir;
using fieldseg::test::runCli;
using fieldseg::test::TempDir;
using nlohmann::json;

namespace {

json infoJson(const std::vector<std::string>& args) {
  std::vector<std::string> all{"info", "--json"};
  all.insert(all.end(), args.begin(), args.end());
  auto r = runCli(all);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return json::parse(r.out);
}

std::vector<std::string> bandNames(const json& j) {
  std::vector<std::string> out;
  for (const auto& b : j["bands"]) out.push_back(b["name"]);
  return out;
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A small georeferenced GeoTIFF written by the library itself.
std::string writeSmallTif(const TempDir& tmp) {
  std::string path = tmp.file("small.tif");
  fieldseg::GridSpec g(20, 10, {500000, 10, 0, 4000000, 0, -10}, fieldseg::Crs::fromEpsg(32633));
  fieldseg::GeoTiffWriter w(path, g, 2, fieldseg::GeoTiffWriter::Type::UInt16, {"red", "nir"}, 0);
  fieldseg::Raster<float> r(2, 10, 20, 0.0f);
  for (int b = 0; b < 2; ++b)
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 20; ++x) r.at(b, y, x) = x < 10 ? 0 : 100 * (b + 1) + x + y;
  w.write(0, 0, r);
  w.close();
  return path;
}

}  // namespace

TEST(InfoCli, RwandaChip) {
  FIELDSEG_REQUIRE_REALDATA();
  json j = infoJson({realdataDir() + "/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif"});
  EXPECT_EQ(j["width"], 256);
  EXPECT_EQ(j["height"], 256);
  EXPECT_EQ(j["crs"], "EPSG:3857");
  EXPECT_EQ(j["epsg"], 3857);
  EXPECT_NEAR(j["gsd_m"].get<double>(), 4.78, 0.01);
  EXPECT_EQ(bandNames(j), (std::vector<std::string>{"blue", "green", "red", "nir"}));
  for (const auto& b : j["bands"]) {
    EXPECT_EQ(b["nodata"], 0);
    EXPECT_EQ(b["type"], "UInt16");
    EXPECT_GT(b["stats"]["p98"].get<double>(), b["stats"]["p2"].get<double>());
  }
  // Eastern Rwanda: about 30.3 E, 1.5 S.
  EXPECT_NEAR(j["bounds_lonlat"][0].get<double>(), 30.31, 0.01);
  EXPECT_NEAR(j["bounds_lonlat"][3].get<double>(), -1.51, 0.01);
}

TEST(InfoCli, RwandaStackedBandsEqualPreparedChipStats) {
  FIELDSEG_REQUIRE_REALDATA();
  std::string d = realdataDir() + "/rwanda_planetscope/train_chip_with_labels/";
  json s = infoJson({"--stack", d + "B01.tif", d + "B02.tif", d + "B03.tif", d + "B04.tif"});
  json p = infoJson({realdataDir() + "/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif"});
  EXPECT_EQ(bandNames(s), bandNames(p));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(s["bands"][i]["stats"], p["bands"][i]["stats"]);
}

TEST(InfoCli, NaipVrtAustriaS2AndNorthDakotaCog) {
  FIELDSEG_REQUIRE_REALDATA();
  std::string naip =
      realdataDir() + "/agoro_naip_us_midwest/georeferenced/40.1637887986809--89.9943351745605.vrt";
  std::string austria = realdataDir() + "/ftw_austria_s2/inference-img.tif";
  std::string nd = realdataDir() + "/opengeos_naip_north_dakota/m_4709963_se_14_1_20090818.tif";
  json all = infoJson({naip, austria, nd});
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 3u);
  const json& n = all[0];
  EXPECT_EQ(n["epsg"].get<int>() / 100, 326);
  EXPECT_NEAR(n["gsd_m"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(bandNames(n), (std::vector<std::string>{"red", "green", "blue"}));
  const json& a = all[1];
  EXPECT_EQ(a["bands"].size(), 8u);
  for (const auto& b : a["bands"]) EXPECT_EQ(b["type"], "UInt16");
  EXPECT_NEAR(a["gsd_m"].get<double>(), 10.0, 1e-9);
  EXPECT_EQ(a["epsg"], 32633);
  const json& c = all[2];
  EXPECT_EQ(c["epsg"], 26914);
  EXPECT_NEAR(c["gsd_m"].get<double>(), 5.0, 1e-9);
  EXPECT_EQ(c["bands"].size(), 4u);
  EXPECT_EQ(c["bands"][0]["type"], "Byte");
}

TEST(InfoCli, TextReportAndBandSelection) {
  TempDir tmp;
  std::string path = writeSmallTif(tmp);
  auto r = runCli({"info", path});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("EPSG:32633"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("20 x 10 px"), std::string::npos) << r.out;
  json j = infoJson({"--bands", "NIR", path});
  ASSERT_EQ(j["bands"].size(), 1u);
  EXPECT_EQ(j["bands"][0]["name"], "nir");
  EXPECT_EQ(j["bands"][0]["index"], 2);
  // Left half is nodata: 100 valid pixels, values 200 + x + y for x >= 10.
  EXPECT_EQ(j["bands"][0]["stats"]["valid_count"], 100);
  EXPECT_NEAR(j["bands"][0]["stats"]["mean"].get<double>(), 200 + 14.5 + 4.5, 1e-9);
  // Statistics over a window that sticks out of the raster: only its valid pixels count.
  json w = infoJson({"--window", "15,5,10,10", path});
  EXPECT_EQ(w["bands"][0]["stats"]["valid_count"], 25);
  EXPECT_EQ(w["geographic"], false);
  EXPECT_TRUE(w["datetime"].is_null());
}

TEST(InfoCli, GeographicCrsReportsGsdInMetres) {
  TempDir tmp;
  std::string path = tmp.file("ll.tif");
  // 1e-4 degree pixels near 1.5 S: about 11.1 m on the ground.
  fieldseg::GridSpec g(50, 40, {30.0, 1e-4, 0, -1.5, 0, -1e-4}, fieldseg::Crs::fromEpsg(4326));
  fieldseg::GeoTiffWriter w(path, g, 1, fieldseg::GeoTiffWriter::Type::Float32, {"nir"});
  w.write(0, 0, fieldseg::Raster<float>(1, 40, 50, 0.5f));
  w.close();
  json j = infoJson({path});
  EXPECT_EQ(j["epsg"], 4326);
  EXPECT_EQ(j["geographic"], true);
  EXPECT_NEAR(j["gsd_m"].get<double>(), 11.1, 0.1);
  EXPECT_NEAR(j["bounds_lonlat"][0].get<double>(), 30.0, 1e-9);
  EXPECT_NEAR(j["bounds_lonlat"][1].get<double>(), -1.504, 1e-9);
  EXPECT_NEAR(j["bounds_lonlat"][2].get<double>(), 30.005, 1e-9);
  EXPECT_NEAR(j["bounds_lonlat"][3].get<double>(), -1.5, 1e-9);
}

TEST(InfoCli, ErrorsGiveOneLineAndTheRightExitCode) {
  TempDir tmp;
  std::string good = writeSmallTif(tmp);

  auto missing = runCli({"info", tmp.file("nope.tif")});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_EQ(lines(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
  EXPECT_TRUE(missing.out.empty());

  std::ofstream(tmp.file("notes.txt")) << "hello\n";
  auto text = runCli({"info", tmp.file("notes.txt")});
  EXPECT_EQ(text.exitCode, 1);
  EXPECT_EQ(lines(text.err), 1) << text.err;
  EXPECT_NE(text.err.find("cannot open raster"), std::string::npos) << text.err;

  // A PGM image: a raster GDAL reads, but without any georeferencing.
  {
    std::ofstream pgm(tmp.file("plain.pgm"), std::ios::binary);
    pgm << "P5\n4 2\n255\n" << std::string(8, '\x10');
  }
  auto nogeo = runCli({"info", tmp.file("plain.pgm")});
  EXPECT_EQ(nogeo.exitCode, 1);
  EXPECT_EQ(lines(nogeo.err), 1) << nogeo.err;
  EXPECT_NE(nogeo.err.find("no georeferencing"), std::string::npos) << nogeo.err;

  auto band = runCli({"info", "--bands", "swir", good});
  EXPECT_EQ(band.exitCode, 2);
  EXPECT_EQ(lines(band.err), 1) << band.err;
  EXPECT_NE(band.err.find("Available bands: 1:red, 2:nir"), std::string::npos) << band.err;

  auto index = runCli({"info", "--bands", "3", good});
  EXPECT_EQ(index.exitCode, 2);
  EXPECT_EQ(lines(index.err), 1) << index.err;

  auto empty = runCli({"info", "--window", "0,0,0,5", good});
  EXPECT_EQ(empty.exitCode, 2);
  EXPECT_EQ(lines(empty.err), 1) << empty.err;
  EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;

  auto badWindow = runCli({"info", "--window", "1,2,x", good});
  EXPECT_EQ(badWindow.exitCode, 2);
  EXPECT_EQ(lines(badWindow.err), 1) << badWindow.err;

  auto stackMismatch = runCli({"info", "--stack", good, tmp.file("plain.pgm")});
  EXPECT_EQ(stackMismatch.exitCode, 1);
  EXPECT_EQ(lines(stackMismatch.err), 1) << stackMismatch.err;

  std::ofstream(tmp.file("f.geojson"))
      << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},)"
      << R"("geometry":{"type":"Point","coordinates":[30.3,-1.5]}}]})";
  auto vector = runCli({"info", tmp.file("f.geojson")});
  EXPECT_EQ(vector.exitCode, 1);
  EXPECT_EQ(lines(vector.err), 1) << vector.err;
  EXPECT_NE(vector.err.find("vector dataset"), std::string::npos) << vector.err;

  auto help = runCli({"info", "--help"});
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.out.find("--bands"), std::string::npos);
}
