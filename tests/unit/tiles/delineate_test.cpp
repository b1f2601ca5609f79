// Property tests of tiles/delineate.cpp with oracle probabilities (tests/support/oracle.hpp).
#include "fieldseg/delineate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"
#include "fieldseg/raster_source.hpp"
#include "oracle.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using test::InstanceLayout;

struct Fixture {
  test::TempDir dir;
  InstanceLayout layout;
  std::string probs;
};

std::unique_ptr<Fixture> makeFixture(int rows, int cols, int bigPx = 0) {
  auto f = std::make_unique<Fixture>();
  f->layout = test::makeLayout(rows, cols, 3.0, 7, bigPx);
  f->probs = f->dir.file("probs.tif");
  test::writeRaster(f->probs, test::oracleProbabilities(f->layout),
                    {"extent", "boundary", "distance"});
  return f;
}

DelineateResult run(const std::string& probs, int tilePx, int threads, double simplifyM = 0,
                    double tDist = 0) {
  DelineateInput in;
  in.probabilitiesIn = probs;
  DelineateOptions o;
  o.tilePx = tilePx;
  o.threads = threads;
  o.simplifyM = simplifyM;
  o.thresholds.tDist = tDist;
  return delineate(in, o);
}

// Best IoU of every truth field (area >= minAreaM2) against the output.
std::vector<double> bestIous(const FieldSet& truth, const FieldSet& out, double minAreaM2) {
  std::vector<double> ious;
  for (const auto& t : truth.fields) {
    if (geodesicAreaM2(t.polygon, truth.crs) < minAreaM2) continue;
    double best = 0;
    for (const auto& o : out.fields) best = std::max(best, iouOf(t.polygon, o.polygon));
    ious.push_back(best);
  }
  return ious;
}

void expectSame(const FieldSet& a, const FieldSet& b, const std::string& what) {
  ASSERT_EQ(a.fields.size(), b.fields.size()) << what;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const Field& x = a.fields[i];
    const Field& y = b.fields[i];
    ASSERT_EQ(x.id, y.id) << what;
    ASSERT_EQ(x.polygon.exterior.size(), y.polygon.exterior.size()) << what << " field " << x.id;
    for (size_t k = 0; k < x.polygon.exterior.size(); ++k) {
      ASSERT_EQ(x.polygon.exterior[k].x, y.polygon.exterior[k].x) << what << " field " << x.id;
      ASSERT_EQ(x.polygon.exterior[k].y, y.polygon.exterior[k].y) << what << " field " << x.id;
    }
    ASSERT_EQ(x.polygon.holes.size(), y.polygon.holes.size()) << what;
    auto core = [](std::map<std::string, AttrValue> a) {
      a.erase("model");  // names the probabilities file or the model: differs by design
      a.erase("source");
      return a;
    };
    EXPECT_TRUE(core(x.attrs) == core(y.attrs)) << what << " field " << x.id;
  }
}

TEST(Delineate, OracleProbabilitiesGiveTheTruthBack) {
  auto f = makeFixture(520, 610);
  const auto res = run(f->probs, 256, 2);
  const FieldSet truth = test::truthPolygons(f->layout);
  ASSERT_GT(truth.fields.size(), 40u);
  const auto ious = bestIous(truth, res.fields, 100);
  ASSERT_FALSE(ious.empty());
  for (size_t i = 0; i < ious.size(); ++i) EXPECT_GE(ious[i], 0.95) << "truth field " << i;
  for (const auto& fld : res.fields.fields) {
    EXPECT_TRUE(isValid(fld.polygon)) << fld.id;
    EXPECT_GE(std::get<double>(fld.attrs.at("area")) * 1e4, 100.0);
  }
  EXPECT_EQ(res.fields.fields.size(), ious.size());
  // Every attribute is declared in the schema the writers use, with its type; each field carries
  // all of them but the date (these probabilities have none).
  std::map<std::string, AttrType> schema;
  for (const AttrDef& d : delineateFieldSchema()) schema[d.name] = d.type;
  for (const auto& fld : res.fields.fields) {
    size_t declared = 0;
    for (const auto& [key, value] : fld.attrs) {
      if (key == "id") continue;
      ASSERT_TRUE(schema.count(key)) << "'" << key << "' is not in delineateFieldSchema()";
      const AttrType want = std::holds_alternative<double>(value)        ? AttrType::Real
                            : std::holds_alternative<std::string>(value) ? AttrType::String
                                                                         : AttrType::Integer64;
      EXPECT_EQ(schema[key], want) << key;
      ++declared;
    }
    EXPECT_EQ(declared, schema.size() - 1) << "field " << fld.id;  // all but the datetime
    EXPECT_FALSE(fld.attrs.count("determination_datetime"));
  }
}

TEST(Delineate, SameOutputForTileSizesAndThreads) {
  auto f = makeFixture(700, 800, 500);
  const auto ref = run(f->probs, 1024, 1);
  ASSERT_GT(ref.fields.fields.size(), 30u);
  for (int tile : {256, 512}) {
    for (int threads : {1, 2}) {
      const auto other = run(f->probs, tile, threads);
      expectSame(ref.fields, other.fields,
                 "tile " + std::to_string(tile) + " threads " + std::to_string(threads));
    }
  }
  // With simplification too.
  expectSame(run(f->probs, 1024, 1, 4.0).fields, run(f->probs, 256, 2, 4.0).fields, "simplified");
}

TEST(Delineate, FieldsLargerThanTilesAreMergedOnce) {
  auto f = makeFixture(700, 800, 600);
  const auto res = run(f->probs, 256, 2);
  EXPECT_GT(res.report.piecesMerged, 0);
  const FieldSet truth = test::truthPolygons(f->layout);
  const Field& big = truth.fields.back();  // the big field has the last id
  int hits = 0;
  double best = 0;
  for (const auto& o : res.fields.fields) {
    const double inter = intersectionArea(big.polygon, o.polygon);
    if (inter > 0.01 * areaOf(big.polygon)) ++hits;
    best = std::max(best, iouOf(big.polygon, o.polygon));
  }
  EXPECT_EQ(hits, 1);
  EXPECT_GE(best, 0.95);
  // No field anywhere is cut at a tile edge: the count equals the single-tile run's.
  EXPECT_EQ(res.fields.fields.size(), run(f->probs, 1024, 1).fields.fields.size());
}

TEST(Delineate, PredictorPathMatchesProbabilitiesPathAndAveragesDates) {
  auto f = makeFixture(400, 450);
  // The image is the oracle stack itself; the identity predictor hands it back.
  const std::string img = f->dir.file("img.tif");
  test::writeRaster(img, test::oracleProbabilities(f->layout), {"ext", "bnd", "dst"});
  test::IdentityPredictor pred({"ext", "bnd", "dst"});
  DelineateInput in;
  in.dates = {{img}, {img}};
  in.predictor = &pred;
  DelineateOptions o;
  o.tilePx = 128;
  o.haloPx = 16;
  o.batch = 3;
  o.threads = 2;
  o.probabilitiesOut = f->dir.file("mosaic.tif");
  const auto viaModel = delineate(in, o);
  const auto viaProbs = run(f->probs, 512, 1);
  expectSame(viaProbs.fields, viaModel.fields, "model path");
  EXPECT_EQ(viaModel.report.predictTiles, 4 * 4);  // (400 + 2*32) / 128 -> 4 x 4
  // The mosaic is a readable 3-band 8-bit raster on the image grid.
  auto m = openRaster({o.probabilitiesOut});
  EXPECT_EQ(m->bands().size(), 3u);
  EXPECT_EQ(m->bands()[0].dataType, "Byte");
}

TEST(Delineate, OwnedCellsPartitionTheFields) {
  auto f = makeFixture(600, 600);
  DelineateInput in;
  in.probabilitiesIn = f->probs;
  DelineateOptions o;
  o.tilePx = 256;
  const auto whole = delineate(in, o);
  std::multiset<std::pair<double, double>> expected, got;
  for (const auto& fld : whole.fields.fields)
    expected.insert({fld.polygon.exterior[0].x, fld.polygon.exterior[0].y});
  long long droppedTotal = 0;
  for (int cy = 0; cy < 2; ++cy)
    for (int cx = 0; cx < 2; ++cx) {
      long long dropped = 0;
      const auto cell =
          delineateOwned(in, PixelWindow{cx * 300, cy * 300, 300, 300}, 160, o, &dropped);
      droppedTotal += dropped;
      for (const auto& fld : cell.fields.fields)
        got.insert({fld.polygon.exterior[0].x, fld.polygon.exterior[0].y});
    }
  EXPECT_EQ(droppedTotal, 0);
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace fieldseg

namespace fieldseg {
namespace {

TEST(Delineate, ImageBandsMustMatchThePredictor) {
  test::TempDir dir;
  const auto layout = test::makeLayout(128, 128, 3.0, 1);
  Raster<float> two(2, 128, 128, 1.0f);
  two.grid = layout.grid;
  test::writeRaster(dir.file("two.tif"), two, {"red", "green"});
  test::IdentityPredictor pred({"red", "green", "blue"});
  DelineateInput in;
  in.dates = {{dir.file("two.tif")}};
  in.predictor = &pred;
  DelineateOptions o;
  o.bands = {"1", "2"};
  try {
    delineate(in, o);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("do not match the model"), std::string::npos) << e.what();
  }
}

TEST(Delineate, AllNodataImageGivesNoFieldsAndSaysSo) {
  test::TempDir dir;
  const auto layout = test::makeLayout(160, 160, 3.0, 1);
  Raster<float> img(3, 160, 160, 0.0f);
  img.grid = layout.grid;
  {
    GeoTiffWriter w(dir.file("nodata.tif"), img.grid, 3, GeoTiffWriter::Type::UInt16,
                    {"a", "b", "c"}, 0.0);
    w.write(0, 0, img);
    w.close();
  }
  test::IdentityPredictor pred({"a", "b", "c"});
  DelineateInput in;
  in.dates = {{dir.file("nodata.tif")}};
  in.predictor = &pred;
  const auto res = delineate(in, DelineateOptions{});
  EXPECT_TRUE(res.report.allNodata);
  EXPECT_TRUE(res.fields.fields.empty());
  EXPECT_EQ(res.report.predictTiles, 0);
}

TEST(Delineate, StreamingSinkGivesTheSameFieldsInOrder) {
  test::TempDir dir;
  const auto layout = test::makeLayout(400, 420, 3.0, 4);
  test::writeRaster(dir.file("p.tif"), test::oracleProbabilities(layout),
                    {"extent", "boundary", "distance"});
  DelineateInput in;
  in.probabilitiesIn = dir.file("p.tif");
  DelineateOptions o;
  o.tilePx = 128;
  const auto inMemory = delineate(in, o);
  std::vector<Field> streamed;
  o.sink = [&](Field&& f) { streamed.push_back(std::move(f)); };
  o.tempDir = dir.path();
  const auto res = delineate(in, o);
  EXPECT_TRUE(res.fields.fields.empty());
  ASSERT_EQ(streamed.size(), inMemory.fields.fields.size());
  EXPECT_EQ(res.report.fieldCount, static_cast<long long>(streamed.size()));
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(streamed[i].id, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(streamed[i].polygon.exterior.size(),
              inMemory.fields.fields[i].polygon.exterior.size());
    EXPECT_TRUE(streamed[i].attrs == inMemory.fields.fields[i].attrs);
  }
  // The spill file is gone.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace fieldseg

namespace fieldseg {
namespace {

TEST(Delineate, AoiLimitsTheWindowAndTheFields) {
  test::TempDir dir;
  const auto layout = test::makeLayout(400, 400, 3.0, 8);
  test::writeRaster(dir.file("p.tif"), test::oracleProbabilities(layout),
                    {"extent", "boundary", "distance"});
  DelineateInput in;
  in.probabilitiesIn = dir.file("p.tif");
  DelineateOptions o;
  o.tilePx = 128;
  const auto all = delineate(in, o);
  // AOI: the pixel box [100, 250) x [100, 250), given in lon/lat.
  Polygon box;
  for (auto [c, r] :
       std::vector<std::pair<int, int>>{{100, 100}, {250, 100}, {250, 250}, {100, 250}})
    box.exterior.push_back(layout.grid.pixelToWorld(c, r));
  FieldSet aoi;
  aoi.crs = layout.grid.crs();
  aoi.fields.push_back(Field{1, box, {}});
  o.aoi = reproject(aoi, Crs::wgs84());
  const auto part = delineate(in, o);
  EXPECT_GT(part.fields.fields.size(), 3u);
  EXPECT_LT(part.fields.fields.size(), all.fields.fields.size());
  // The smallest window covering the box (one more pixel if reprojection rounding pushes an edge).
  EXPECT_GE(part.report.window.width, 150);
  EXPECT_LE(part.report.window.width, 151);
  for (const auto& f : part.fields.fields) EXPECT_TRUE(intersects(box, f.polygon)) << f.id;
}

}  // namespace
}  // namespace fieldseg

namespace fieldseg {
namespace {

// Oracle probabilities as smallholder imagery gives them: extent high across the outlines too
// (touching fields' extents join) and every boundary line broken (in each 9 px run along a row,
// 3 px of the band cleared). The distance band still dips to 0 at every field edge.
std::string gappyProbabilities(const Fixture& f) {
  Raster<float> p = test::oracleProbabilities(f.layout);
  for (int r = 0; r < p.rows; ++r)
    for (int c = 0; c < p.cols; ++c)
      if (p.at(1, r, c) > 0 || p.at(0, r, c) > 0) {
        p.at(0, r, c) = 1.0f;                           // extent high across the outlines too
        if ((c + 2 * r) % 9 < 3) p.at(1, r, c) = 0.0f;  // and the outlines broken
      }
  const std::string path = f.dir.file("gappy.tif");
  test::writeRaster(path, p, {"extent", "boundary", "distance"});
  return path;
}

DelineateResult runMarkers(const std::string& probs, int tilePx, int threads, double tDist) {
  return run(probs, tilePx, threads, 0, tDist);
}

}  // namespace

TEST(Delineate, MarkersKeepFieldsApartWhereBoundaryLinesHaveGaps) {
  auto f = makeFixture(400, 400);
  const std::string probs = gappyProbabilities(*f);
  const FieldSet truth = test::truthPolygons(f->layout);
  const auto floors = bestIous(truth, runMarkers(probs, 512, 2, 0).fields, 100);
  const auto markers = bestIous(truth, runMarkers(probs, 512, 2, 0.3).fields, 100);
  ASSERT_GT(markers.size(), 20u);
  auto above = [](const std::vector<double>& v, double t) {
    return std::count_if(v.begin(), v.end(), [&](double x) { return x >= t; });
  };
  std::printf("fields with IoU >= 0.8 of %zu: floors %ld, markers %ld\n", markers.size(),
              static_cast<long>(above(floors, 0.8)), static_cast<long>(above(markers, 0.8)));
  // Floors leak through the gaps and merge neighbours; markers split them again.
  EXPECT_GE(above(markers, 0.8), static_cast<long>(markers.size() * 9 / 10));
  EXPECT_LT(above(floors, 0.8), above(markers, 0.8));
}

TEST(Delineate, MarkerModeIsTheSameForTileSizesAndThreads) {
  auto f = makeFixture(700, 800, 500);
  const std::string probs = gappyProbabilities(*f);
  const auto ref = runMarkers(probs, 1024, 1, 0.3);
  ASSERT_GT(ref.fields.fields.size(), 30u);
  for (int tile : {256, 512}) {
    for (int threads : {1, 2}) {
      expectSame(ref.fields, runMarkers(probs, tile, threads, 0.3).fields,
                 "markers tile " + std::to_string(tile) + " threads " + std::to_string(threads));
    }
  }
}

}  // namespace fieldseg
