// readFields (src/io/vector_reader.cpp) and rasterizePolygons (src/io/rasterize.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <variant>

#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/rasterize.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

// 4 features: a square with attributes, a multipolygon of two squares, a bow-tie, a point.
const char* kGeoJson = R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"a","yield":2.5,"n":7},
 "geometry":{"type":"Polygon","coordinates":[[[30.0,-1.0],[30.001,-1.0],[30.001,-1.001],[30.0,-1.001],[30.0,-1.0]]]}},
{"type":"Feature","properties":{"name":"b"},
 "geometry":{"type":"MultiPolygon","coordinates":[[[[30.01,-1.0],[30.011,-1.0],[30.011,-1.001],[30.01,-1.0]]],
  [[[30.02,-1.0],[30.021,-1.0],[30.021,-1.001],[30.02,-1.0]]]]}},
{"type":"Feature","properties":{"name":"bowtie"},
 "geometry":{"type":"Polygon","coordinates":[[[30.03,-1.0],[30.031,-1.001],[30.031,-1.0],[30.03,-1.001],[30.03,-1.0]]]}},
{"type":"Feature","properties":{"name":"pt"},"geometry":{"type":"Point","coordinates":[30.0,-1.0]}}
]})";

std::string writeText(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

void expectFixture(const FieldSet& fs, const VectorReadReport& rep, bool checkTypes) {
  EXPECT_EQ(rep.featuresRead, 4);
  EXPECT_EQ(rep.repaired, 1);
  EXPECT_EQ(rep.skipped, 1);
  ASSERT_EQ(rep.skipReasons.size(), 1u);
  EXPECT_NE(rep.skipReasons[0].find("not a polygon"), std::string::npos) << rep.skipReasons[0];
  // 1 square + 2 multipolygon parts + 2 bow-tie triangles.
  EXPECT_EQ(rep.polygonsOut, 5);
  ASSERT_EQ(fs.fields.size(), 5u);
  ASSERT_TRUE(fs.crs.epsg().has_value());
  EXPECT_EQ(*fs.crs.epsg(), 4326);
  // Traditional GIS order: x is the longitude.
  EXPECT_NEAR(fs.fields[0].polygon.exterior[0].x, 30.0, 1e-9);
  EXPECT_NEAR(fs.fields[0].polygon.exterior[0].y, -1.0, 1e-9);
  EXPECT_EQ(fs.fields[0].polygon.exterior.size(), 4u);  // closing point dropped
  EXPECT_EQ(std::get<std::string>(fs.fields[0].attrs.at("name")), "a");
  if (checkTypes) {
    EXPECT_DOUBLE_EQ(std::get<double>(fs.fields[0].attrs.at("yield")), 2.5);
    EXPECT_EQ(std::get<std::int64_t>(fs.fields[0].attrs.at("n")), 7);
  }
  EXPECT_EQ(std::get<std::string>(fs.fields[1].attrs.at("name")), "b");
  EXPECT_EQ(std::get<std::string>(fs.fields[2].attrs.at("name")), "b");
  EXPECT_EQ(std::get<std::int64_t>(fs.fields[2].attrs.at("part")), 1);
  for (size_t i = 0; i < fs.fields.size(); ++i) EXPECT_EQ(fs.fields[i].id, (long long)i + 1);
}

TEST(VectorReader, GeoJsonSplitsRepairsAndSkips) {
  test::TempDir dir;
  const std::string path = writeText(dir, "f.geojson", kGeoJson);
  VectorReadReport rep;
  const FieldSet fs = readFields(path, &rep);
  expectFixture(fs, rep, true);
}

// Geometries are checked on several threads in batches of 2,048 features: any thread count gives
// the same fields (order, ids, parts, attributes) and the same report, skip reasons in file order.
// `n` features in lon/lat: squares, every 7th from the 4th a bow-tie (repaired into two parts),
// every 7th from the 6th a point (skipped); property k = the feature's index.
std::string manyFeatures(int n) {
  std::string text = R"({"type":"FeatureCollection","features":[)";
  for (int i = 0; i < n; ++i) {
    const double x = 30 + 0.002 * (i % 100), y = -1 - 0.002 * (i / 100);
    const std::string a = std::to_string(x), b = std::to_string(y), c = std::to_string(x + 0.001),
                      d = std::to_string(y - 0.001);
    std::string geom;
    switch (i % 7) {
      case 3:  // bow-tie: repaired into two parts
        geom = R"({"type":"Polygon","coordinates":[[[)" + a + "," + b + "],[" + c + "," + d +
               "],[" + c + "," + b + "],[" + a + "," + d + "],[" + a + "," + b + "]]]}";
        break;
      case 5:  // a point: skipped
        geom = R"({"type":"Point","coordinates":[)" + a + "," + b + "]}";
        break;
      default:
        geom = R"({"type":"Polygon","coordinates":[[[)" + a + "," + b + "],[" + c + "," + b +
               "],[" + c + "," + d + "],[" + a + "," + d + "],[" + a + "," + b + "]]]}";
    }
    text += std::string(i ? "," : "") + R"({"type":"Feature","properties":{"k":)" +
            std::to_string(i) + R"(},"geometry":)" + geom + "}";
  }
  text += "]}";
  return text;
}

// The same fields, in the same order, with the same coordinates and attributes.
void expectSameFields(const FieldSet& fs, const FieldSet& base, const std::string& what) {
  ASSERT_EQ(fs.fields.size(), base.fields.size()) << what;
  for (size_t i = 0; i < fs.fields.size(); ++i) {
    EXPECT_EQ(fs.fields[i].id, base.fields[i].id) << what;
    EXPECT_EQ(fs.fields[i].attrs, base.fields[i].attrs) << what;
    const Polygon& a = fs.fields[i].polygon;
    const Polygon& b = base.fields[i].polygon;
    ASSERT_EQ(a.exterior.size(), b.exterior.size()) << what;
    ASSERT_EQ(a.holes.size(), b.holes.size()) << what;
    for (size_t k = 0; k < a.exterior.size(); ++k) {
      EXPECT_EQ(a.exterior[k].x, b.exterior[k].x) << what;
      EXPECT_EQ(a.exterior[k].y, b.exterior[k].y) << what;
    }
  }
}

TEST(VectorReader, ThreadCountDoesNotChangeTheResult) {
  test::TempDir dir;
  const int n = 5000;  // crosses two batch boundaries
  const std::string text = manyFeatures(n);
  const std::string path = writeText(dir, "many.geojson", text);
  VectorReadReport one;
  const FieldSet base = readFields(path, &one, {}, 1);
  EXPECT_EQ(one.featuresRead, n);
  EXPECT_EQ(one.repaired, (n + 3) / 7);
  EXPECT_EQ(one.skipped, (n + 1) / 7);
  EXPECT_EQ(one.polygonsOut, n - one.skipped + one.repaired);
  for (int threads : {3, 0}) {
    VectorReadReport rep;
    const FieldSet fs = readFields(path, &rep, {}, threads);
    EXPECT_EQ(rep.featuresRead, one.featuresRead);
    EXPECT_EQ(rep.repaired, one.repaired);
    EXPECT_EQ(rep.skipped, one.skipped);
    EXPECT_EQ(rep.skipReasons, one.skipReasons);
    expectSameFields(fs, base, "threads " + std::to_string(threads));
  }
}

// Two layers of a GeoPackage in different CRSs (the second one transformed to the first's while
// reading, each field tagged with its layer): any thread count gives the same result.
TEST(VectorReader, ThreadCountDoesNotChangeAMultiLayerRead) {
  test::TempDir dir;
  const std::string src = writeText(dir, "many.geojson", manyFeatures(2500));
  const std::string gpkg = dir.file("two.gpkg");
  auto r = test::runShell("ogr2ogr -nlt PROMOTE_TO_MULTI -nln a -where 'k % 7 <> 5' '" + gpkg +
                          "' '" + src + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = test::runShell(
      "ogr2ogr -update -nlt PROMOTE_TO_MULTI -nln b -t_srs EPSG:3857 -where "
      "'k % 7 <> 5' '" +
      gpkg + "' '" + src + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  VectorReadReport one;
  const FieldSet base = readFields(gpkg, &one, {}, 1);
  EXPECT_EQ(one.featuresRead, 2 * (2500 - (2500 + 1) / 7));
  EXPECT_EQ(one.repaired, 2 * ((2500 + 3) / 7));
  ASSERT_FALSE(base.fields.empty());
  EXPECT_EQ(std::get<std::string>(base.fields.back().attrs.at("source_layer")), "b");
  // Layer b came back to lon/lat: its first square starts where layer a's does.
  EXPECT_NEAR(base.fields.back().polygon.exterior[0].x, base.fields.front().polygon.exterior[0].x,
              0.25);
  VectorReadReport rep;
  const FieldSet fs = readFields(gpkg, &rep, {}, 3);
  EXPECT_EQ(rep.featuresRead, one.featuresRead);
  EXPECT_EQ(rep.repaired, one.repaired);
  expectSameFields(fs, base, "gpkg, 3 threads");
}

TEST(VectorReader, OtherFormatsAndZip) {
  test::TempDir dir;
  const std::string src = writeText(dir, "f.geojson", kGeoJson);
  // GPKG/FGB/Shapefile hold one geometry type per layer: keep polygons there, check attributes.
  for (const std::string ext : {"gpkg", "fgb"}) {
    const std::string out = dir.file("f." + ext);
    auto r = test::runShell("ogr2ogr -nlt PROMOTE_TO_MULTI '" + out + "' '" + src +
                            "' -where \"name <> 'pt'\"");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    VectorReadReport rep;
    const FieldSet fs = readFields(out, &rep);
    EXPECT_EQ(rep.featuresRead, 3) << ext;
    EXPECT_EQ(rep.repaired, 1) << ext;
    EXPECT_EQ(fs.fields.size(), 5u) << ext;
    EXPECT_EQ(*fs.crs.epsg(), 4326);
  }
  auto r =
      test::runShell("mkdir -p '" + dir.file("shp") + "' && ogr2ogr -nlt PROMOTE_TO_MULTI '" +
                     dir.file("shp/f.shp") + "' '" + src + "' -where \"name <> 'pt'\" && cd '" +
                     dir.path() + "' && zip -q -r f.zip shp");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const std::string& p :
       {dir.file("shp/f.shp"), "/vsizip/" + dir.file("f.zip") + "/shp/f.shp"}) {
    VectorReadReport rep;
    const FieldSet fs = readFields(p, &rep);
    EXPECT_EQ(fs.fields.size(), 5u) << p;
    EXPECT_EQ(rep.repaired, 1) << p;
    ASSERT_TRUE(fs.crs.epsg().has_value()) << p;
    EXPECT_EQ(*fs.crs.epsg(), 4326);
  }
}

TEST(VectorReader, NamedLayerAndErrors) {
  test::TempDir dir;
  const std::string src = writeText(dir, "f.geojson", kGeoJson);
  const std::string gpkg = dir.file("two.gpkg");
  auto r = test::runShell("ogr2ogr -nln polys -nlt PROMOTE_TO_MULTI '" + gpkg + "' '" + src +
                          "' -where \"name = 'a'\" && ogr2ogr -update -nln points '" + gpkg +
                          "' '" + src + "' -where \"name = 'pt'\"");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(readFields(gpkg).fields.size(), 1u);  // the point layer is ignored
  EXPECT_EQ(readFields(gpkg, nullptr, "polys").fields.size(), 1u);
  EXPECT_THROW(readFields(gpkg, nullptr, "points"), DataError);
  EXPECT_THROW(readFields(gpkg, nullptr, "nope"), UsageError);
  EXPECT_THROW(readFields(dir.file("missing.geojson")), IoError);
  const std::string pts = writeText(
      dir, "p.geojson",
      R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]})");
  try {
    readFields(pts);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no polygons"), std::string::npos) << e.what();
  }
}

TEST(VectorReader, RealRegistries) {
  FIELDSEG_REQUIRE_REALDATA();
  const std::string base = test::realdataDir() + "/field_polygons/";
  for (const std::string& p : {base + "fiboa_cli_fixtures/india_10k/india_10k.shp",
                               base + "eolearn_rpg_france/rpg_lpis_iacs_lyon_east.gpkg",
                               base + "fiboa_cli_fixtures/de_fusion/de_test_2019.geojson"}) {
    VectorReadReport rep;
    const FieldSet fs = readFields(p, &rep);
    EXPECT_GT(fs.fields.size(), 10u) << p;
    EXPECT_FALSE(fs.crs.empty()) << p;
    EXPECT_EQ(rep.polygonsOut, static_cast<int>(fs.fields.size()));
  }
}

TEST(Rasterize, PixelCentreRuleAndHoles) {
  // 10x10 grid, 1 m pixels, origin (0,10).
  GridSpec grid(10, 10, {0, 1, 0, 10, 0, -1}, Crs::fromEpsg(32633));
  Polygon sq{{{1, 9}, {5, 9}, {5, 5}, {1, 5}}, {{{2, 8}, {3, 8}, {3, 7}, {2, 7}}}};
  // Covers centres of columns 6..7 only (x from 5.6 to 7.6 -> centres 6.5, 7.5).
  Polygon thin{{{5.6, 4}, {7.6, 4}, {7.6, 2}, {5.6, 2}}, {}};
  const Raster<std::int32_t> r = rasterizePolygons({sq, thin}, grid);
  ASSERT_EQ(r.rows, 10);
  int n1 = 0, n2 = 0;
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) {
      const int v = r.at(0, y, x);
      n1 += v == 1;
      n2 += v == 2;
    }
  EXPECT_EQ(n1, 16 - 1);        // 4x4 square minus the 1-pixel hole
  EXPECT_EQ(r.at(0, 2, 2), 0);  // the hole (row 2 = y 7.5, col 2 = x 2.5)
  EXPECT_EQ(r.at(0, 1, 1), 1);
  EXPECT_EQ(n2, 4);
  EXPECT_EQ(r.at(0, 6, 6), 2);
  EXPECT_EQ(r.at(0, 6, 5), 0);
  const Raster<std::int32_t> v = rasterizePolygons({sq, thin}, grid, {{7, 9}, false});
  EXPECT_EQ(v.at(0, 1, 1), 7);
  EXPECT_EQ(v.at(0, 6, 6), 9);
  EXPECT_THROW(rasterizePolygons({sq}, grid, {{1, 2}, false}), UsageError);
}

}  // namespace
}  // namespace fieldseg
