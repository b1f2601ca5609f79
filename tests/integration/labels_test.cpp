// `fieldseg labels` end to end (issue 4 acceptance 1, 2, 4 and the chip manifest contract).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

namespace fs = std::filesystem;

// Independent check (python3 + OGR/PROJ for the reprojection, shapely point-in-polygon at pixel
// centres for the rasterisation: no code shared with fieldseg). Prints JSON counts.
const char* kCheckScript = R"PY(
import json, sys
import numpy as np
from osgeo import gdal, ogr, osr
from scipy import ndimage
from shapely import wkb
from shapely import vectorized
gdal.UseExceptions()
fields, labels, bp = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = gdal.Open(labels)
W, H = ds.RasterXSize, ds.RasterYSize
gt = ds.GetGeoTransform()
band = {ds.GetRasterBand(i + 1).GetDescription(): ds.GetRasterBand(i + 1).ReadAsArray() for i in range(ds.RasterCount)}
dst = osr.SpatialReference(); dst.ImportFromWkt(ds.GetProjection())
dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
src = ogr.Open(fields); lyr = src.GetLayer(0)
srs = lyr.GetSpatialRef(); srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(srs, dst)
cols, rows = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
X = gt[0] + cols * gt[1] + rows * gt[2]
Y = gt[3] + cols * gt[4] + rows * gt[5]
inst = np.zeros((H, W), np.int32)
n = 0
for f in lyr:
    g = f.GetGeometryRef().Clone(); g.Transform(ct)
    shp = wkb.loads(bytes(g.ExportToWkb()))
    n += 1
    inst[vectorized.contains(shp, X, Y)] = n
inside = inst > 0
mask = band['mask'] > 0.5
ext = band['extent'] > 0.5
near = ndimage.binary_dilation(inside, structure=np.ones((2 * bp + 1, 2 * bp + 1), bool))
touch = int(np.sum(ext[:, :-1] & ext[:, 1:] & (inst[:, :-1] != inst[:, 1:])) +
            np.sum(ext[:-1, :] & ext[1:, :] & (inst[:-1, :] != inst[1:, :])))
print(json.dumps({
  "fields": n, "field_px": int(inside.sum()), "mask_px": int(mask.sum()), "extent_px": int(ext.sum()),
  "field_not_in_mask": int(np.sum(inside & ~mask)),
  "mask_far_from_field": int(np.sum(mask & ~near)),
  "extent_outside_field": int(np.sum(ext & ~inside)),
  "extent_4touch_between_fields": touch,
  "fields_with_extent": int(len(set(np.unique(inst[ext])) - {0})),
}))
)PY";

const char* kPython = "/usr/bin/python3";

bool havePythonGdal() {
  return test::runShell(std::string(kPython) +
                        " -c 'import osgeo.gdal, numpy, scipy, shapely.vectorized'")
             .exitCode == 0;
}

std::string rwanda() { return test::realdataDir() + "/rwanda_planetscope/prepared"; }

TEST(LabelsCli, RwandaMatchesIndependentRasterisation) {
  FIELDSEG_REQUIRE_REALDATA();
  if (!havePythonGdal()) GTEST_SKIP() << "needs /usr/bin/python3 with osgeo, numpy, scipy, shapely";
  test::TempDir dir;
  const std::string script = dir.file("check.py");
  std::ofstream(script) << kCheckScript;
  for (int bp : {1, 2, 3}) {
    const std::string out = dir.file("labels_" + std::to_string(bp) + ".tif");
    auto r = test::runCli({"labels", "--image", rwanda() + "/rwanda_planetscope_chip.tif",
                           "--fields", rwanda() + "/fields.geojson", "--boundary-px",
                           std::to_string(bp), "--out", out});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("28 used"), std::string::npos) << r.err;
    auto c = test::runShell(std::string(kPython) + " '" + script + "' '" + rwanda() +
                            "/fields.geojson' '" + out + "' " + std::to_string(bp));
    ASSERT_EQ(c.exitCode, 0) << c.err;
    const auto j = nlohmann::json::parse(c.out);
    std::printf("boundary_px %d: %s\n", bp, c.out.c_str());
    EXPECT_EQ(j["fields"], 28);
    EXPECT_GT(j["field_px"].get<int>(),
              10000);  // non-vacuous: the fields cover about a third of 256x256
    EXPECT_GT(j["extent_px"].get<int>(), 5000);
    EXPECT_EQ(j["field_not_in_mask"], 0);
    EXPECT_EQ(j["mask_far_from_field"], 0);
    EXPECT_EQ(j["extent_outside_field"], 0);
    EXPECT_EQ(j["extent_4touch_between_fields"], 0);
    EXPECT_EQ(j["fields_with_extent"].get<int>(), 28);  // every real field keeps an extent
  }
}

TEST(LabelsCli, EveryNaipSceneBuildsLabels) {
  FIELDSEG_REQUIRE_REALDATA();
  const fs::path base = fs::path(test::realdataDir()) / "agoro_naip_us_midwest/georeferenced";
  std::vector<fs::path> scenes;
  for (const auto& e : fs::directory_iterator(base))
    if (e.path().extension() == ".vrt") scenes.push_back(e.path());
  std::sort(scenes.begin(), scenes.end());
  ASSERT_EQ(scenes.size(), 30u);
  test::TempDir dir;
  const std::regex frac("labelled fraction ([0-9.]+)");
  for (const fs::path& s : scenes) {
    fs::path fields = s;
    fields.replace_extension(".geojson");
    const std::string out = dir.file(s.stem().string() + ".tif");
    auto r =
        test::runCli({"labels", "--image", s.string(), "--fields", fields.string(), "--out", out});
    ASSERT_EQ(r.exitCode, 0) << s << ": " << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, frac)) << r.err;
    const double f = std::stod(m[1]);
    std::printf("NAIP %s labelled fraction %.4f\n", s.stem().c_str(), f);
    EXPECT_GT(f, 0.0) << s;
    EXPECT_LE(f, 1.0) << s;
    const auto src = openRaster({out});
    ASSERT_EQ(src->bands().size(), 4u);
    EXPECT_EQ(src->bands()[3].description, "mask");
    EXPECT_EQ(src->grid().width(), 1024);
  }
}

TEST(LabelsCli, BadInputsGiveOneLineAndNoFile) {
  FIELDSEG_REQUIRE_REALDATA();
  test::TempDir dir;
  const std::string image = rwanda() + "/rwanda_planetscope_chip.tif";
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.file(name)) << text;
    return dir.file(name);
  };
  const std::string points = write(
      "points.geojson",
      R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[30.32,-1.52]}}]})");
  const std::string far = write(
      "far.geojson",
      R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[10.3,-1.5],[10.31,-1.5],[10.31,-1.51],[10.3,-1.5]]]}}]})");
  // Same polygons, declared on Mars: PROJ has no transformation to EPSG:3857.
  const std::string mars = dir.file("mars.gpkg");
  ASSERT_EQ(test::runShell("ogr2ogr -a_srs IAU_2015:49900 '" + mars + "' '" + rwanda() +
                           "/fields.geojson'")
                .exitCode,
            0);
  struct Case {
    std::string fields, expect;
  };
  for (const Case& c :
       {Case{points, "no polygons"}, Case{far, "covers a pixel"}, Case{mars, "cannot transform"},
        Case{dir.file("missing.gpkg"), "cannot open"}}) {
    const std::string out = dir.file("out.tif");
    auto r = test::runCli({"labels", "--image", image, "--fields", c.fields, "--out", out,
                           "--chips", dir.file("chips")});
    EXPECT_EQ(r.exitCode, 1) << c.fields;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.fields;
    EXPECT_FALSE(fs::exists(dir.file("chips/manifest.jsonl"))) << c.fields;
  }
  // A self-intersecting bow-tie is repaired (two triangles) and counted.
  const std::string bow = write(
      "bow.geojson",
      R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[30.315,-1.515],[30.318,-1.518],[30.318,-1.515],[30.315,-1.518],[30.315,-1.515]]]}}]})");
  auto r =
      test::runCli({"labels", "--image", image, "--fields", bow, "--out", dir.file("bow.tif")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("1 features read, 2 polygons, 2 used, 1 repaired"), std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::exists(dir.file("bow.tif")));
  // Existing output without --overwrite is a usage error.
  r = test::runCli({"labels", "--image", image, "--fields", bow, "--out", dir.file("bow.tif")});
  EXPECT_EQ(r.exitCode, 2) << r.err;
}

TEST(LabelsCli, ChipsFollowTheManifestContract) {
  FIELDSEG_REQUIRE_REALDATA();
  test::TempDir dir;
  const std::string image = rwanda() + "/rwanda_planetscope_chip.tif";
  const std::string chips = dir.file("chips");
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "labels",  "--image",  image,       "--fields", rwanda() + "/fields.geojson",
        "--chips", chips,      "--chip-px", "96",       "--chip-stride",
        "64",      "--scales", "1,2,3"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::runCli(args);
  };
  auto r = run({});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(run({}).exitCode, 2);  // chips of this image already there
  r = run({"--overwrite", "--split", "west"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("keeps 14 of 28"), std::string::npos) << r.err;

  std::ifstream in(chips + "/manifest.jsonl");
  std::string line;
  std::set<int> scales;
  std::map<int, double> gsd;
  int n = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    ++n;
    for (const char* k : {"image", "labels", "source_image", "source_fields", "scale", "gsd_m",
                          "window", "crs", "bands", "band_stats", "labelled_fraction", "fields"})
      ASSERT_TRUE(j.contains(k)) << k << " missing in " << line;
    EXPECT_EQ(j["source_image"], image);
    EXPECT_EQ(j["crs"], "EPSG:3857");
    EXPECT_EQ(j["bands"], nlohmann::json({"blue", "green", "red", "nir"}));
    ASSERT_EQ(j["band_stats"].size(), 4u);
    for (const char* k : {"p2", "p98", "mean", "std"}) EXPECT_TRUE(j["band_stats"][0].contains(k));
    EXPECT_GE(j["labelled_fraction"].get<double>(), 0.05);
    EXPECT_GT(j["fields"].get<int>(), 0);
    const int s = j["scale"];
    scales.insert(s);
    gsd[s] = j["gsd_m"];
    const auto img = openRaster({chips + "/" + j["image"].get<std::string>()});
    const auto lbl = openRaster({chips + "/" + j["labels"].get<std::string>()});
    ASSERT_EQ(img->bands().size(), 4u);
    EXPECT_EQ(img->bands()[2].description, "red");
    EXPECT_EQ(img->bands()[0].dataType, "Float32");
    ASSERT_EQ(lbl->bands().size(), 4u);
    const std::vector<std::string> names = {"extent", "boundary", "distance", "mask"};
    for (int b = 0; b < 4; ++b) EXPECT_EQ(lbl->bands()[b].description, names[b]);
    EXPECT_EQ(lbl->grid().width(), 96);
    const auto w = j["window"];
    const Raster<float> L = lbl->read(lbl->grid().fullWindow());
    long long m = 0;
    for (size_t i = 0; i < L.plane(); ++i) {
      const float mk = L.data[3 * L.plane() + i];
      EXPECT_TRUE(mk == 0.0f || mk == 1.0f);
      m += mk == 1.0f;
    }
    EXPECT_NEAR(static_cast<double>(m) / L.plane(), j["labelled_fraction"].get<double>(), 1e-9);
    EXPECT_EQ(w.size(), 4u);
  }
  EXPECT_GT(n, 3);
  EXPECT_EQ(scales, (std::set<int>{1, 2, 3}));
  EXPECT_NEAR(gsd[2] / gsd[1], 2.0, 1e-6);
  EXPECT_NEAR(gsd[3] / gsd[1], 3.0, 1e-6);
}

}  // namespace
}  // namespace fieldseg

namespace fieldseg {
namespace {

// tools/split_rwanda.sh (ogr2ogr + SpatiaLite ST_Centroid) and `labels --split` pick the same
// halves: the label rasters they give are identical.
TEST(LabelsCli, SplitScriptMatchesSplitOption) {
  FIELDSEG_REQUIRE_REALDATA();
  test::TempDir dir;
  auto s = test::runShell(std::string(FIELDSEG_SOURCE_DIR) + "/tools/split_rwanda.sh '" +
                          dir.file("split") + "' '" + rwanda() + "/fields.geojson'");
  ASSERT_EQ(s.exitCode, 0) << s.err;
  for (const std::string& half : {std::string("west"), std::string("east")}) {
    const std::string image = rwanda() + "/rwanda_planetscope_chip.tif";
    auto a = test::runCli({"labels", "--image", image, "--fields", rwanda() + "/fields.geojson",
                           "--split", half, "--out", dir.file("a_" + half + ".tif")});
    ASSERT_EQ(a.exitCode, 0) << a.err;
    auto b = test::runCli({"labels", "--image", image, "--fields",
                           dir.file("split/rwanda_fields_" + half + ".geojson"), "--out",
                           dir.file("b_" + half + ".tif")});
    ASSERT_EQ(b.exitCode, 0) << b.err;
    EXPECT_NE(b.err.find("14 used"), std::string::npos) << b.err;
    const auto ra = openRaster({dir.file("a_" + half + ".tif")});
    const auto rb = openRaster({dir.file("b_" + half + ".tif")});
    const Raster<float> x = ra->read(ra->grid().fullWindow());
    const Raster<float> y = rb->read(rb->grid().fullWindow());
    EXPECT_EQ(x.data, y.data) << half;
  }
}

}  // namespace
}  // namespace fieldseg

namespace fieldseg {
namespace {

// --noncrop polygons are labelled background (mask 1, extent 0); --gsd changes the grid.
TEST(LabelsCli, NoncropIsLabelledBackgroundAndGsdResamples) {
  FIELDSEG_REQUIRE_REALDATA();
  test::TempDir dir;
  // A 0.001 deg square in the south-west of the chip, where no field is.
  const std::string nc = dir.file("nc.geojson");
  std::ofstream(nc)
      << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[30.3140,-1.5220],[30.3150,-1.5220],[30.3150,-1.5230],[30.3140,-1.5230],[30.3140,-1.5220]]]}}]})";
  const std::string image = rwanda() + "/rwanda_planetscope_chip.tif";
  auto r = test::runCli({"labels", "--image", image, "--fields", rwanda() + "/fields.geojson",
                         "--noncrop", nc, "--gsd", "10", "--out", dir.file("l.tif")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("1 on the image"), std::string::npos) << r.err;
  const auto src = openRaster({dir.file("l.tif")});
  EXPECT_NEAR(src->grid().gsdMeters(), 10.0, 1e-6);
  const Raster<float> L = src->read(src->grid().fullWindow());
  // Centre of the square, in the label grid.
  const auto g = src->grid();
  const CoordTransform xf(Crs::wgs84(), g.crs());
  const Point p = xf.apply(Point{30.3145, -1.5225});
  const Point px = g.worldToPixel(p.x, p.y);
  const int c = static_cast<int>(px.x), row = static_cast<int>(px.y);
  ASSERT_TRUE(c >= 0 && row >= 0 && c < L.cols && row < L.rows);
  EXPECT_EQ(L.at(3, row, c), 1.0f);  // labelled
  EXPECT_EQ(L.at(0, row, c), 0.0f);  // as background
}

}  // namespace
}  // namespace fieldseg
