// fieldseg synth: determinism, exact truth (checked independently with GDAL's rasteriser and
// shapely), no overlaps, area ranges, readable outputs.
#include "fieldseg/synth.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

namespace {

// Debian's python3 carries the GDAL and shapely bindings used for the independent checks (a pyenv
// python3 earlier on PATH may not).
const char* kPython = "/usr/bin/python3";

bool pythonChecksAvailable() {
  return test::runShell(std::string(kPython) + " -c 'import osgeo, shapely'").exitCode == 0;
}

#define REQUIRE_PYTHON_GDAL()                                                  \
  do {                                                                         \
    if (!pythonChecksAvailable())                                              \
      GTEST_SKIP() << "/usr/bin/python3 with GDAL and shapely (python3-gdal, " \
                      "python3-shapely) is needed for this independent check"; \
  } while (0)

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct SynthRun {
  std::string scene, truth, inst;
  SynthSummary summary;
};

SynthRun synth(const test::TempDir& dir, const std::string& tag, SynthOptions o,
               const std::string& truthExt = ".geojson") {
  SynthRun r;
  r.scene = dir.file(tag + ".tif");
  r.truth = dir.file(tag + truthExt);
  r.inst = dir.file(tag + "_inst.tif");
  r.summary = synthesize(o, {r.scene, r.truth, r.inst});
  return r;
}

SynthOptions small(int size = 256, std::uint64_t seed = 7) {
  SynthOptions o;
  o.preset = SynthPreset::Smallholder;
  o.width = o.height = size;
  o.seed = seed;
  return o;
}

SynthOptions large(int size = 1024, std::uint64_t seed = 7) {
  SynthOptions o;
  o.preset = SynthPreset::LargeFields;
  o.width = o.height = size;
  o.gsdM = 2;  // 2 km x 2 km: enough for a dozen fields at a test-friendly size
  o.seed = seed;
  return o;
}

// Rasterises the truth on the instance raster's grid with GDAL (pixel-centre rule, reprojecting
// the WGS84 GeoJSON to the scene CRS) and compares with the painted ids. Prints
// "<mismatches> <field pixels>".
std::string rasterizeCheck(const std::string& inst, const std::string& truth) {
  const std::string py = R"(
import sys
from osgeo import gdal, ogr
gdal.UseExceptions()
inst = gdal.Open(sys.argv[1]); a = inst.ReadAsArray()
m = gdal.GetDriverByName('MEM').Create('', inst.RasterXSize, inst.RasterYSize, 1, gdal.GDT_Int32)
m.SetGeoTransform(inst.GetGeoTransform()); m.SetProjection(inst.GetProjection())
ds = ogr.Open(sys.argv[2]); lyr = ds.GetLayer(0)
gdal.RasterizeLayer(m, [1], lyr, options=['ATTRIBUTE=id'])
b = m.ReadAsArray()
print(int((a != b).sum()), int((a > 0).sum()))
)";
  test::CliResult r =
      test::runShell(std::string(kPython) + " -c \"" + py + "\" '" + inst + "' '" + truth + "'");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return r.out;
}

}  // namespace

TEST(Synth, SameSeedSameBytesDifferentSeedDiffers) {
  test::TempDir dir;
  SynthOptions o = small(300, 11);
  o.threads = 1;
  const SynthRun a = synth(dir, "a", o);
  o.threads = 2;  // thread count must not change a byte
  const SynthRun b = synth(dir, "b", o);
  ASSERT_GT(a.summary.fields, 10);
  EXPECT_EQ(bytes(a.scene), bytes(b.scene));
  EXPECT_EQ(bytes(a.truth), bytes(b.truth));
  EXPECT_EQ(bytes(a.inst), bytes(b.inst));
  const SynthRun c = synth(dir, "c", small(300, 12));
  EXPECT_NE(bytes(a.scene), bytes(c.scene));
  EXPECT_NE(bytes(a.truth), bytes(c.truth));

  SynthOptions l = large(512, 3);
  const SynthRun la = synth(dir, "la", l);
  const SynthRun lb = synth(dir, "lb", l);
  EXPECT_EQ(bytes(la.scene), bytes(lb.scene));
  EXPECT_EQ(bytes(la.truth), bytes(lb.truth));
}

TEST(Synth, TruthRasterisesToThePaintedPixels) {
  REQUIRE_PYTHON_GDAL();
  test::TempDir dir;
  for (const SynthOptions& o : {small(512, 5), large(1024, 5)}) {
    SCOPED_TRACE(toString(o.preset));
    const SynthRun r = synth(dir, toString(o.preset), o);
    ASSERT_GT(r.summary.fields, 5);
    std::istringstream out(rasterizeCheck(r.inst, r.truth));
    long long mismatches = -1, fieldPixels = -1;
    out >> mismatches >> fieldPixels;
    EXPECT_EQ(mismatches, 0);
    EXPECT_GT(fieldPixels, 0);
    EXPECT_NEAR(static_cast<double>(fieldPixels) / (o.width * o.height),
                r.summary.fieldPixelFraction, 1e-9);
  }
}

TEST(Synth, NoOverlapAndAreasInRange) {
  REQUIRE_PYTHON_GDAL();
  test::TempDir dir;
  for (const SynthOptions& o : {small(512, 9), large(1024, 9)}) {
    SCOPED_TRACE(toString(o.preset));
    // GeoPackage keeps the scene's UTM coordinates exactly: touching fields share edges exactly.
    const SynthRun r = synth(dir, toString(o.preset), o, ".gpkg");
    const auto [lo, hi] = presetAreaRangeHa(o.preset);
    const std::string py = R"(
import sys
from osgeo import ogr
from shapely import wkb
from shapely.strtree import STRtree
ds = ogr.Open(sys.argv[1])
lyr = ds.GetLayer(0)
polys, areas, ids = [], [], []
for f in lyr:
    polys.append(wkb.loads(bytes(f.GetGeometryRef().ExportToWkb())))
    areas.append(f.GetField('area')); ids.append(f.GetField('id'))
tree = STRtree(polys)
overlap = 0.0
for p in polys:
    for q in tree.query(p):
        q = q if hasattr(q, 'geom_type') else polys[int(q)]
        if q is not p: overlap += p.intersection(q).area
invalid = sum(1 for p in polys if not p.is_valid)
bad_area = max(abs(p.area / 1e4 - a) for p, a in zip(polys, areas))
print(len(polys), overlap / 2, invalid, bad_area, min(areas), max(areas), len(set(ids)))
)";
    test::CliResult res =
        test::runShell(std::string(kPython) + " -c \"" + py + "\" '" + r.truth + "'");
    ASSERT_EQ(res.exitCode, 0) << res.err;
    std::istringstream in(res.out);
    long long n = 0, uniqueIds = 0, invalid = -1;
    double overlap = -1, badArea = -1, minA = 0, maxA = 0;
    in >> n >> overlap >> invalid >> badArea >> minA >> maxA >> uniqueIds;
    EXPECT_EQ(n, r.summary.fields);
    EXPECT_EQ(uniqueIds, n);
    EXPECT_EQ(overlap, 0.0);
    EXPECT_EQ(invalid, 0);
    EXPECT_LT(badArea, 1e-6);  // the area attribute is the polygon's planar area
    EXPECT_GE(minA, lo);
    EXPECT_LE(maxA, hi);
  }
}

TEST(Synth, PixelsLookLikeVegetationAndFollowTheProfile) {
  test::TempDir dir;
  const SynthRun r = synth(dir, "s", small(256, 3));
  auto src = openRaster({r.scene});
  ASSERT_EQ(src->bands().size(), 4u);
  EXPECT_EQ(src->bands()[0].name, "red");
  EXPECT_EQ(src->bands()[3].name, "nir");
  EXPECT_EQ(src->bands()[0].dataType, "UInt16");
  auto inst = openRaster({r.inst});
  Raster<float> px = src->read(src->grid().fullWindow());
  Raster<float> ids = inst->read(inst->grid().fullWindow());
  double red = 0, nir = 0;
  long long n = 0;
  for (size_t i = 0; i < px.plane(); ++i) {
    if (ids.data[i] <= 0) continue;
    red += px.band(0)[i];
    nir += px.band(3)[i];
    ++n;
  }
  ASSERT_GT(n, 0);
  EXPECT_GT(nir / n, 2 * red / n);  // crops are bright in NIR
  EXPECT_GT(red / n, 100);          // reflectance x 10000, not 0..1
  EXPECT_LT(red / n, 3000);

  SynthOptions o = large(256, 3);
  o.profile = SensorProfile::Naip;
  o.bands = {"nir", "red"};
  const SynthRun n2 = synth(dir, "naip", o);
  auto naip = openRaster({n2.scene});
  ASSERT_EQ(naip->bands().size(), 2u);
  EXPECT_EQ(naip->bands()[0].name, "nir");
  EXPECT_EQ(naip->bands()[0].dataType, "Byte");
}

TEST(Synth, HazeChangesPixelsNotTruth) {
  test::TempDir dir;
  SynthOptions o = small(200, 4);
  const SynthRun clear = synth(dir, "clear", o);
  o.haze = 0.6;
  const SynthRun hazy = synth(dir, "hazy", o);
  EXPECT_NE(bytes(clear.scene), bytes(hazy.scene));
  EXPECT_EQ(bytes(clear.truth), bytes(hazy.truth));
}

TEST(Synth, BadOptionsAreUsageErrors) {
  test::TempDir dir;
  SynthOutputs out{dir.file("s.tif"), dir.file("t.geojson"), ""};
  SynthOptions o = small(64);
  o.bands = {"red", "swir"};
  EXPECT_THROW(synthesize(o, out), UsageError);
  o = small(64);
  o.crs = Crs::fromEpsg(4326);
  EXPECT_THROW(synthesize(o, out), UsageError);
  o = small(8);
  EXPECT_THROW(synthesize(o, out), UsageError);
  o = small(64);
  o.haze = 2;
  EXPECT_THROW(synthesize(o, out), UsageError);
  EXPECT_THROW(parseSynthPreset("tiny"), UsageError);
  EXPECT_THROW(parseSensorProfile("landsat"), UsageError);
  EXPECT_TRUE(fs::is_empty(dir.path()));
  synthesize(small(64), out);
  EXPECT_THROW(synthesize(small(64), out), UsageError);  // exists, no overwrite
  SynthOptions ow = small(64);
  ow.overwrite = true;
  synthesize(ow, out);
}

TEST(SynthCli, WritesReadableOutputs) {
  test::TempDir dir;
  const std::string scene = dir.file("scene.tif"), truth = dir.file("fields.geojson");
  test::CliResult r = test::runCli({"synth", "--preset", "smallholder", "--size", "320x200",
                                    "--gsd", "4.78", "--seed", "2", "--out", scene, "--truth",
                                    truth, "--truth-raster", dir.file("inst.tif")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  test::CliResult info = test::runCli({"info", scene});
  EXPECT_EQ(info.exitCode, 0) << info.err;
  EXPECT_NE(info.out.find("320"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("nir"), std::string::npos) << info.out;
  test::CliResult ogr = test::runShell("ogrinfo -al -so '" + truth + "'");
  EXPECT_EQ(ogr.exitCode, 0);
  EXPECT_EQ(ogr.err, "") << "ogrinfo warned";
  EXPECT_NE(ogr.out.find("area: Real"), std::string::npos) << ogr.out;
  EXPECT_NE(ogr.out.find("id: Integer"), std::string::npos) << ogr.out;

  // Usage errors exit 2; an existing output without --overwrite is one.
  EXPECT_EQ(test::runCli({"synth", "--preset", "huge", "--size", "64", "--out", dir.file("x.tif"),
                          "--truth", dir.file("x.geojson")})
                .exitCode,
            2);
  EXPECT_EQ(test::runCli({"synth", "--preset", "smallholder", "--size", "64", "--out", scene,
                          "--truth", dir.file("y.geojson")})
                .exitCode,
            2);
  EXPECT_EQ(test::runCli({"synth", "--preset", "smallholder", "--size", "64x", "--out",
                          dir.file("z.tif"), "--truth", dir.file("z.geojson")})
                .exitCode,
            2);
}

TEST(Synth, GsdIsGroundMetresInWebMercator) {
  test::TempDir dir;
  SynthOptions o = small(128, 2);
  o.crs = Crs::fromEpsg(3857);
  o.gsdM = 3;
  const SynthRun r = synth(dir, "wm", o);
  EXPECT_NEAR(r.summary.grid.gsdMeters(), 3.0, 1e-6);
  EXPECT_NEAR(r.summary.grid.resX(), 3.0 / std::cos(1.07 * 3.14159265358979 / 180), 1e-3);
  const auto [lo, hi] = presetAreaRangeHa(o.preset);
  EXPECT_GE(r.summary.minAreaHa, lo);
  EXPECT_LE(r.summary.maxAreaHa, hi);
}
