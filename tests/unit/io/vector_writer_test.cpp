// writeFields / FieldWriter / reproject: round trips through OGR and RFC 7946 checks on the raw
// GeoJSON text.
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "fieldseg/error.hpp"
#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

namespace {

// Two fields in UTM 36N (Uganda): a square with a square hole (exterior given clockwise, hole
// counter-clockwise, i.e. the wrong way round on purpose) and a triangle.
FieldSet sampleFields() {
  FieldSet fs;
  fs.crs = Crs::fromEpsg(32636);
  Field a;
  a.id = 7;
  const double x0 = 600000, y0 = 110000;
  a.polygon.exterior = {{x0, y0}, {x0, y0 + 100}, {x0 + 100, y0 + 100}, {x0 + 100, y0}};
  a.polygon.holes.push_back(
      {{x0 + 40, y0 + 40}, {x0 + 60, y0 + 40}, {x0 + 60, y0 + 60}, {x0 + 40, y0 + 60}});
  a.attrs["area"] = 0.96;
  a.attrs["crop"] = std::string("maize");
  a.attrs["count"] = std::int64_t{3};
  Field b;
  b.id = 8;
  b.polygon.exterior = {{x0 + 200, y0}, {x0 + 300, y0}, {x0 + 250, y0 + 80}};
  b.attrs["area"] = std::int64_t{0};  // int + double -> Real
  fs.fields = {a, b};
  return fs;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double signedArea(const nlohmann::json& ring) {
  double a = 0;
  for (size_t i = 0; i + 1 < ring.size(); ++i)
    a += ring[i][0].get<double>() * ring[i + 1][1].get<double>() -
         ring[i + 1][0].get<double>() * ring[i][1].get<double>();
  return 0.5 * a;
}

struct OgrRead {
  std::vector<std::unique_ptr<OGRFeature>> features;
  std::unique_ptr<OGRFeatureDefn, void (*)(OGRFeatureDefn*)> defn{nullptr, [](OGRFeatureDefn* d) {
                                                                    if (d) d->Release();
                                                                  }};
  std::string srsAuthority;
};

OgrRead readOgr(const std::string& path) {
  GDALAllRegister();
  OgrRead r;
  auto* ds = static_cast<GDALDataset*>(
      GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!ds) throw std::runtime_error("OGR cannot open " + path);
  OGRLayer* layer = ds->GetLayer(0);
  layer->GetLayerDefn()->Reference();
  r.defn.reset(layer->GetLayerDefn());
  if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
    const char* code = srs->GetAuthorityCode(nullptr);
    if (code) r.srsAuthority = code;
  }
  layer->ResetReading();
  while (OGRFeature* f = layer->GetNextFeature()) r.features.emplace_back(f);
  GDALClose(ds);
  return r;
}

bool onlyFinalFile(const std::string& dir, const std::string& name) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++n;
    if (e.path().filename() != name) return false;
  }
  return n == 1;
}

}  // namespace

TEST(VectorWriter, GeoJsonIsRfc7946) {
  test::TempDir tmp;
  const std::string path = tmp.file("fields.geojson");
  writeFields(sampleFields(), path);
  EXPECT_TRUE(onlyFinalFile(tmp.path(), "fields.geojson"));

  const std::string text = slurp(path);
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["type"], "FeatureCollection");
  EXPECT_FALSE(doc.contains("crs"));
  ASSERT_EQ(doc["features"].size(), 2u);

  for (const auto& f : doc["features"]) {
    const auto& rings = f["geometry"]["coordinates"];
    ASSERT_EQ(f["geometry"]["type"], "Polygon");
    for (size_t r = 0; r < rings.size(); ++r) {
      const auto& ring = rings[r];
      ASSERT_GE(ring.size(), 4u);
      EXPECT_EQ(ring.front(), ring.back()) << "ring not closed";
      for (const auto& p : ring) {
        EXPECT_GE(p[0].get<double>(), -180.0);
        EXPECT_LE(p[0].get<double>(), 180.0);
        EXPECT_GE(p[1].get<double>(), -90.0);
        EXPECT_LE(p[1].get<double>(), 90.0);
        // Uganda, UTM 36N: lon ~33.9, lat ~1.0 (catches swapped axes).
        EXPECT_NEAR(p[0].get<double>(), 33.9, 0.2);
        EXPECT_NEAR(p[1].get<double>(), 1.0, 0.2);
      }
      if (r == 0)
        EXPECT_GT(signedArea(ring), 0) << "exterior must be counter-clockwise";
      else
        EXPECT_LT(signedArea(ring), 0) << "holes must be clockwise";
    }
  }
  const auto& a = doc["features"][0]["properties"];
  EXPECT_EQ(a["id"], 7);
  EXPECT_EQ(a["crop"], "maize");
  EXPECT_EQ(a["count"], 3);
  EXPECT_DOUBLE_EQ(a["area"].get<double>(), 0.96);
  EXPECT_EQ(doc["features"][0]["geometry"]["coordinates"].size(), 2u);  // the hole survived
  EXPECT_EQ(doc["features"][1]["properties"]["id"], 8);

  // At most 7 decimals on every coordinate, and at least some use all 7.
  const std::string coords = text.substr(text.find("\"coordinates\""));
  std::regex number(R"(-?\d+\.(\d+))");
  int maxDecimals = 0;
  for (auto it = std::sregex_iterator(coords.begin(), coords.end(), number);
       it != std::sregex_iterator(); ++it)
    maxDecimals = std::max<int>(maxDecimals, static_cast<int>((*it)[1].length()));
  EXPECT_EQ(maxDecimals, 7);
}

TEST(VectorWriter, GeoJsonRoundTripThroughOgr) {
  test::TempDir tmp;
  const std::string path = tmp.file("fields.json");
  const FieldSet in = sampleFields();
  writeFields(in, path);
  OgrRead r = readOgr(path);
  ASSERT_EQ(r.features.size(), 2u);
  EXPECT_EQ(r.srsAuthority, "4326");
  // Back to UTM: within a few cm of the input (7 decimals of a degree ~ 1 cm).
  OGRSpatialReference wgs, utm;
  wgs.importFromEPSG(4326);
  utm.importFromEPSG(32636);
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&wgs, &utm));
  ASSERT_TRUE(ct);
  for (size_t i = 0; i < 2; ++i) {
    auto* poly = r.features[i]->GetGeometryRef()->toPolygon();
    poly->transform(ct.get());
    const Ring& ext = in.fields[i].polygon.exterior;
    const OGRLinearRing* ring = poly->getExteriorRing();
    ASSERT_EQ(ring->getNumPoints(), static_cast<int>(ext.size()) + 1);
    // Every input vertex appears in the output ring (order may be reversed for orientation).
    for (const Point& p : ext) {
      double best = 1e9;
      for (int k = 0; k < ring->getNumPoints(); ++k)
        best = std::min(best, std::hypot(ring->getX(k) - p.x, ring->getY(k) - p.y));
      EXPECT_LT(best, 0.03);
    }
    EXPECT_EQ(r.features[i]->GetFieldAsInteger64("id"), in.fields[i].id);
  }
}

TEST(VectorWriter, GpkgFgbSeqKeepCrsAttributesAndGeometry) {
  for (const std::string name : {"f.gpkg", "f.fgb", "f.geojsonl", "f.geojsons"}) {
    SCOPED_TRACE(name);
    test::TempDir tmp;
    const std::string path = tmp.file(name);
    const FieldSet in = sampleFields();
    writeFields(in, path);
    EXPECT_TRUE(onlyFinalFile(tmp.path(), name));
    OgrRead r = readOgr(path);
    ASSERT_EQ(r.features.size(), 2u);
    const bool seq = name.find("geojson") != std::string::npos;
    EXPECT_EQ(r.srsAuthority, seq ? "4326" : "32636");
    OGRFeatureDefn* d = r.defn.get();
    ASSERT_GE(d->GetFieldIndex("id"), 0);
    ASSERT_GE(d->GetFieldIndex("area"), 0);
    ASSERT_GE(d->GetFieldIndex("crop"), 0);
    ASSERT_GE(d->GetFieldIndex("count"), 0);
    EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("area"))->GetType(), OFTReal);
    EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("crop"))->GetType(), OFTString);
    if (!seq) {
      EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("id"))->GetType(), OFTInteger64);
      EXPECT_EQ(d->GetFieldDefn(d->GetFieldIndex("count"))->GetType(), OFTInteger64);
    }
    // Features may come back in another order (FlatGeobuf sorts by its spatial index).
    std::map<GIntBig, OGRFeature*> byId;
    for (auto& f : r.features) byId[f->GetFieldAsInteger64("id")] = f.get();
    ASSERT_EQ(byId.count(7), 1u);
    ASSERT_EQ(byId.count(8), 1u);
    EXPECT_STREQ(byId[7]->GetFieldAsString("crop"), "maize");
    EXPECT_EQ(byId[7]->GetFieldAsInteger64("count"), 3);
    // Missing attribute: null (FlatGeobuf stores it as unset).
    EXPECT_FALSE(byId[8]->IsFieldSetAndNotNull(d->GetFieldIndex("crop")));
    EXPECT_DOUBLE_EQ(byId[8]->GetFieldAsDouble("area"), 0.0);
    auto* poly = byId[7]->GetGeometryRef()->toPolygon();
    EXPECT_EQ(poly->getNumInteriorRings(), 1);
    if (!seq) {
      // Same CRS: the area is exact (100x100 minus 20x20).
      EXPECT_DOUBLE_EQ(poly->get_Area(), 9600.0);
      EXPECT_TRUE(poly->getExteriorRing()->isClockwise() == FALSE);
      EXPECT_TRUE(poly->getInteriorRing(0)->isClockwise() == TRUE);
    }
  }
}

// Collection metadata (fiboa_version): a FeatureCollection member in GeoJSON, layer metadata in
// GPKG; the features are unchanged.
TEST(VectorWriter, CollectionMetadataGoesWhereTheFormatHoldsIt) {
  test::TempDir tmp;
  VectorWriteOptions o;
  o.collectionMetadata = {{"fiboa_version", "0.2.0"}, {"note", "a \"quoted\" value"}};
  writeFields(sampleFields(), tmp.file("f.geojson"), o);
  const auto j = nlohmann::json::parse(slurp(tmp.file("f.geojson")));
  EXPECT_EQ(j["type"], "FeatureCollection");
  EXPECT_EQ(j["fiboa_version"], "0.2.0");
  EXPECT_EQ(j["note"], "a \"quoted\" value");
  EXPECT_EQ(j["features"].size(), 2u);
  writeFields(sampleFields(), tmp.file("f.gpkg"), o);
  GDALAllRegister();
  auto* ds = static_cast<GDALDataset*>(GDALOpenEx(
      tmp.file("f.gpkg").c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  ASSERT_NE(ds, nullptr);
  const char* v = ds->GetLayer(0)->GetMetadataItem("fiboa_version");
  EXPECT_STREQ(v, "0.2.0");
  EXPECT_EQ(ds->GetLayer(0)->GetFeatureCount(), 2);
  GDALClose(ds);
}

TEST(VectorWriter, OptionsCrsReprojectsGpkg) {
  test::TempDir tmp;
  const std::string path = tmp.file("f.gpkg");
  VectorWriteOptions opt;
  opt.crs = Crs::fromEpsg(3857);
  opt.layerName = "parcels";
  writeFields(sampleFields(), path, opt);
  OgrRead r = readOgr(path);
  EXPECT_EQ(r.srsAuthority, "3857");
  ASSERT_EQ(r.features.size(), 2u);
  OGREnvelope env;
  r.features[0]->GetGeometryRef()->getEnvelope(&env);
  // Web Mercator x of lon 33.9 is about 3.77e6 m.
  EXPECT_NEAR(env.MinX, 3.77e6, 0.03e6);
}

TEST(VectorWriter, OverwriteGuard) {
  test::TempDir tmp;
  const std::string path = tmp.file("fields.gpkg");
  writeFields(sampleFields(), path);
  EXPECT_THROW(writeFields(sampleFields(), path), UsageError);
  FieldSet one = sampleFields();
  one.fields.resize(1);
  VectorWriteOptions opt;
  opt.overwrite = true;
  writeFields(one, path, opt);
  EXPECT_EQ(readOgr(path).features.size(), 1u);
  EXPECT_TRUE(onlyFinalFile(tmp.path(), "fields.gpkg"));
}

TEST(VectorWriter, EmptyFieldSetWritesValidEmptyLayer) {
  for (const std::string name : {"e.geojson", "e.geojsonl", "e.gpkg", "e.fgb"}) {
    SCOPED_TRACE(name);
    test::TempDir tmp;
    FieldSet empty;
    empty.crs = Crs::fromEpsg(32615);
    writeFields(empty, tmp.file(name));
    if (name == "e.geojsonl") {
      EXPECT_TRUE(fs::exists(tmp.file(name)));
      EXPECT_EQ(fs::file_size(tmp.file(name)), 0u);  // an empty sequence is an empty file
      continue;
    }
    OgrRead r = readOgr(tmp.file(name));
    EXPECT_EQ(r.features.size(), 0u);
    // GeoJSON has no schema without features; the others keep the attribute table.
    if (name != "e.geojson") {
      EXPECT_GE(r.defn->GetFieldIndex("id"), 0);
    }
  }
}

TEST(VectorWriter, BadInputsAreErrors) {
  test::TempDir tmp;
  EXPECT_THROW(writeFields(sampleFields(), tmp.file("f.shp")), UsageError);
  EXPECT_THROW(writeFields(sampleFields(), tmp.file("nofolder/f.gpkg")), IoError);
  FieldSet noCrs = sampleFields();
  noCrs.crs = Crs();
  EXPECT_THROW(writeFields(noCrs, tmp.file("f.geojson")), DataError);
  FieldSet degenerate = sampleFields();
  degenerate.fields[0].polygon.exterior.resize(2);
  EXPECT_THROW(writeFields(degenerate, tmp.file("g.geojson")), DataError);
  // A failed write leaves nothing behind.
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(VectorWriter, FieldWriterStreams) {
  test::TempDir tmp;
  const std::string path = tmp.file("many.gpkg");
  {
    FieldWriter w(path, Crs::fromEpsg(32615), {{"area", AttrType::Real}});
    for (int i = 0; i < 500; ++i) {
      Field f;
      f.id = i + 1;
      const double x = 400000 + 10.0 * i, y = 4650000;
      f.polygon.exterior = {{x, y}, {x + 5, y}, {x + 5, y + 5}, {x, y + 5}};
      f.attrs["area"] = 25.0 / 1e4;
      w.add(f);
    }
    EXPECT_EQ(w.count(), 500);
    w.close();
  }
  EXPECT_EQ(readOgr(path).features.size(), 500u);
  {
    // Not closed: abandoned, nothing written.
    FieldWriter w(tmp.file("abandoned.gpkg"), Crs::fromEpsg(32615), {});
  }
  EXPECT_FALSE(fs::exists(tmp.file("abandoned.gpkg")));
  EXPECT_TRUE(onlyFinalFile(tmp.path(), "many.gpkg"));
}

TEST(Reproject, RoundTripAndErrors) {
  const FieldSet in = sampleFields();
  const FieldSet ll = reproject(in, Crs::wgs84());
  EXPECT_TRUE(ll.crs.sameAs(Crs::wgs84()));
  EXPECT_NEAR(ll.fields[0].polygon.exterior[0].x, 33.9, 0.2);  // lon first
  EXPECT_NEAR(ll.fields[0].polygon.exterior[0].y, 1.0, 0.2);
  const FieldSet back = reproject(ll, in.crs);
  for (size_t i = 0; i < in.fields.size(); ++i) {
    EXPECT_EQ(back.fields[i].id, in.fields[i].id);
    EXPECT_EQ(back.fields[i].attrs, in.fields[i].attrs);
    for (size_t k = 0; k < in.fields[i].polygon.exterior.size(); ++k) {
      EXPECT_NEAR(back.fields[i].polygon.exterior[k].x, in.fields[i].polygon.exterior[k].x, 1e-6);
      EXPECT_NEAR(back.fields[i].polygon.exterior[k].y, in.fields[i].polygon.exterior[k].y, 1e-6);
    }
  }
  EXPECT_EQ(back.fields[0].polygon.holes.size(), 1u);
  FieldSet noCrs = in;
  noCrs.crs = Crs();
  EXPECT_THROW(reproject(noCrs, Crs::wgs84()), DataError);
}
