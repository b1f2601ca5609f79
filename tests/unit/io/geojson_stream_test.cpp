// fieldseg's own GeoJSON / GeoJSONSeq writer (src/io/geojson_stream.cpp) against GDAL's drivers:
// the same field set written both ways gives the same bytes (fields with holes, every attribute
// type, nulls, strings that need escaping, numbers that need rounding, a UTM field set reprojected
// to lon/lat, an empty set, collection members).
#include "geojson_stream.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "failing_file_env.hpp"
#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::fileBytes;
using fieldseg::test::TempDir;

namespace {

// Fields shaped like delineate's output (staircase rings, some holes) with every attribute type.
FieldSet variedFields(const Crs& crs, double x0, double y0, double step, int n) {
  FieldSet fs;
  fs.crs = crs;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const std::vector<std::string> names = {"plain",   "with \"quotes\"", "back\\slash",
                                          "a/b",     "tab\there",       "line\nbreak",
                                          "ctl\x01", "caf\xc3\xa9",     ""};
  for (int i = 0; i < n; ++i) {
    Field f;
    f.id = i + 1;
    const double bx = x0 + step * 40 * (i % 17), by = y0 + step * 40 * (i / 17);
    const int k = 3 + static_cast<int>(u(rng) * 12);
    for (int j = 0; j < k; ++j) {  // a staircase going up, then back along the top
      f.polygon.exterior.push_back({bx + step * j, by + step * (j % 2 ? j + 1 : j)});
    }
    f.polygon.exterior.push_back({bx + step * k, by + step * (k + 3)});
    f.polygon.exterior.push_back({bx, by + step * (k + 3)});
    if (i % 3 == 0) {
      const double hx = bx + step * 0.5, hy = by + step * (k + 1);
      f.polygon.holes.push_back(
          {{hx, hy}, {hx + step * 0.25, hy}, {hx + step * 0.25, hy + step}, {hx, hy + step}});
    }
    f.attrs["area"] = std::round(u(rng) * 1e6) / 1e4;
    f.attrs["ratio"] = u(rng);  // full precision: 15 significant digits are printed
    f.attrs["whole"] = static_cast<double>(i * 100);
    f.attrs["count"] = static_cast<std::int64_t>(i) * 1234567 - 50;
    f.attrs["label"] = names[static_cast<size_t>(i) % names.size()];
    if (i % 4 != 1) f.attrs["sometimes"] = std::string("r") + std::to_string(i) + "c" + "7";
    if (i % 5 == 0) f.attrs["mixed"] = static_cast<std::int64_t>(i);  // int + double -> Real
    if (i % 5 == 1) f.attrs["mixed"] = 0.5 * i;
    fs.fields.push_back(std::move(f));
  }
  return fs;
}

void expectSameBytes(const FieldSet& fields, const std::string& ext, VectorWriteOptions o,
                     const std::string& what) {
  SCOPED_TRACE(what + " " + ext);
  TempDir dir;
  o.viaOgr = true;
  writeFields(fields, dir.file("ogr" + ext), o);
  o.viaOgr = false;
  writeFields(fields, dir.file("own" + ext), o);
  const std::string a = fileBytes(dir.file("ogr" + ext)), b = fileBytes(dir.file("own" + ext));
  ASSERT_FALSE(a.empty());
  if (a == b) return;
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const size_t from = i > 80 ? i - 80 : 0;
  FAIL() << "first difference at byte " << i << "\nOGR: " << a.substr(from, 160)
         << "\nown: " << b.substr(from, 160);
}

}  // namespace

TEST(GeoJsonStream, NumbersAndStringsPrintAsGdalDoes) {
  EXPECT_EQ(io::geoJsonCoordinate(34.13322), "34.13322");
  EXPECT_EQ(io::geoJsonCoordinate(1.10641204), "1.106412");
  EXPECT_EQ(io::geoJsonCoordinate(2.0), "2.0");
  EXPECT_EQ(io::geoJsonCoordinate(-0.00000004), "-0.0");
  EXPECT_EQ(io::geoJsonCoordinate(-179.99999996), "-180.0");
  EXPECT_EQ(io::geoJsonReal(3.2013), "3.2013");
  EXPECT_EQ(io::geoJsonReal(100), "100.0");
  EXPECT_EQ(io::geoJsonReal(0.1 + 0.2), "0.3");
  EXPECT_EQ(io::geoJsonReal(0.95133614008443002), "0.95133614008443002");
  EXPECT_EQ(io::geoJsonReal(0.25), "0.25");
  EXPECT_EQ(io::geoJsonReal(NAN), "null");
  EXPECT_EQ(io::geoJsonString("a\"b\\c\td\x02/"), "\"a\\\"b\\\\c\\td\\u0002/\"");
  EXPECT_EQ(io::geoJsonString("a/b", true), "\"a\\/b\"");
}

TEST(GeoJsonStream, SameBytesAsGdalForLonLatFields) {
  const FieldSet fields = variedFields(Crs::wgs84(), 30.1234567, -1.9876543, 0.0000431, 60);
  VectorWriteOptions o;
  o.stringIds = false;
  for (const std::string ext : {".geojson", ".geojsonl"}) expectSameBytes(fields, ext, o, "lonlat");
}

TEST(GeoJsonStream, SameBytesAsGdalForReprojectedFieldsWithStringIdsAndMembers) {
  FieldSet fields = variedFields(Crs::fromEpsg(32736), 712345.5, 9812345.25, 4.77, 80);
  for (Field& f : fields.fields) f.attrs["id"] = "r" + std::to_string(f.id * 3) + "c9";
  VectorWriteOptions o;
  o.stringIds = true;
  o.collectionMetadata = {{"fiboa_version", "0.2.0"}, {"note", "a \"quoted\" / value"}};
  for (const std::string ext : {".geojson", ".geojsonl"})
    expectSameBytes(fields, ext, o, "utm, string ids");
}

TEST(GeoJsonStream, SameBytesAsGdalForAnEmptySet) {
  FieldSet empty;
  empty.crs = Crs::fromEpsg(32636);
  VectorWriteOptions o;
  expectSameBytes(empty, ".geojson", o, "empty");
  o.collectionMetadata = {{"fiboa_version", "0.2.0"}};
  expectSameBytes(empty, ".geojson", o, "empty with a member");
  FieldSet one = variedFields(Crs::wgs84(), 10, 10, 0.001, 1);
  expectSameBytes(one, ".geojson", o, "one field");
  expectSameBytes(one, ".geojsonl", o, "one field");
}

// VectorWriteOptions::threads: batches of fields reprojected and formatted on several threads give
// the bytes of the one-field-at-a-time writer, for several batches (4096 fields each) and for the
// tail of a batch, through add(const Field&) and add(Field&&), in both formats.
TEST(GeoJsonStream, ThreadedBatchesWriteTheSameBytes) {
  FieldSet fields = variedFields(Crs::fromEpsg(32736), 712345.5, 9812345.25, 4.77, 9001);
  for (Field& f : fields.fields) f.attrs["id"] = "r" + std::to_string(f.id) + "c1";
  VectorWriteOptions o;
  o.stringIds = true;
  o.collectionMetadata = {{"fiboa_version", "0.2.0"}};
  for (const std::string ext : {".geojson", ".geojsonl"}) {
    SCOPED_TRACE(ext);
    TempDir dir;
    writeFields(fields, dir.file("one" + ext), o);
    for (int threads : {2, 3}) {
      VectorWriteOptions t = o;
      t.threads = threads;
      FieldWriter w(dir.file("t" + ext), fields.crs, attrSchemaOf(fields), t);
      for (size_t i = 0; i < fields.fields.size(); ++i) {
        if (i % 2)
          w.add(fields.fields[i]);
        else
          w.add(Field(fields.fields[i]));
      }
      EXPECT_EQ(w.count(), 9001);
      w.close();
      EXPECT_TRUE(fileBytes(dir.file("one" + ext)) == fileBytes(dir.file("t" + ext)))
          << threads << " threads";
      std::filesystem::remove(dir.file("t" + ext));
    }
  }
}

// A field that cannot be reprojected, in a batch formatted in the background: the error reaches
// the caller (from a later add() or from close()), names the field, and nothing is left behind.
TEST(GeoJsonStream, ThreadedBatchErrorReachesTheCallerAndLeavesNoFile) {
  FieldSet fields = variedFields(Crs::fromEpsg(32736), 712345.5, 9812345.25, 4.77, 9001);
  for (Point& p : fields.fields[10].polygon.exterior) p.x = 1e30;  // no longitude for it
  TempDir dir;
  const std::string out = dir.file("bad.geojsonl");
  VectorWriteOptions o;
  o.threads = 2;
  try {
    FieldWriter w(out, fields.crs, attrSchemaOf(fields), o);
    for (const Field& f : fields.fields) w.add(f);
    w.close();
    FAIL() << "no error for a field outside the target CRS";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("field " + std::to_string(fields.fields[10].id)),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a file was left in " << dir.path();
}
