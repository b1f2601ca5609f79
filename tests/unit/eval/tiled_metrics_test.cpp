// Tile-by-tile overlays (src/eval/tiled_metrics.hpp) against the same quantities computed on whole
// layers, on abutting fields whose edges lie on the lattice a naive tile grid would use, with
// overlapping fields and a large many-vertex prediction with holes spanning many tiles.
#include "tiled_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "near_reference.hpp"
#include "tile_grid.hpp"

namespace fieldseg {
namespace {

constexpr double kX = 500000, kY = 9800000;

Polygon rect(double x0, double y0, double x1, double y1) {
  return Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, {}};
}

// A staircase blob over most of the scene with a square hole every 50 m: many vertices, many
// holes, crossing every tile.
Polygon blob() {
  Polygon p;
  for (int i = 0; i <= 40; ++i) {
    p.exterior.push_back({kX + 10 + i * 10.0, kY + 20 + (i % 2) * 7.0});
    p.exterior.push_back({kX + 10 + i * 10.0 + 5, kY + 20 + (i % 2) * 7.0});
  }
  p.exterior.push_back({kX + 415, kY + 290});
  p.exterior.push_back({kX + 10, kY + 290});
  for (int gx = 0; gx < 7; ++gx) {
    for (int gy = 0; gy < 5; ++gy) {
      const double x = kX + 40 + gx * 50, y = kY + 50 + gy * 50;
      p.holes.push_back({{x, y}, {x, y + 8}, {x + 8, y + 8}, {x + 8, y}});
    }
  }
  return p;
}

struct Scene {
  std::vector<Polygon> truth, pred;
  std::vector<Shape> t, p;
  WorldBox extent;
};

Scene scene() {
  Scene s;
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) {
      s.truth.push_back(rect(kX + i * 40, kY + j * 30, kX + (i + 1) * 40, kY + (j + 1) * 30));
    }
  }
  s.truth.push_back(rect(kX + 95, kY + 95, kX + 175, kY + 130));  // overlaps four fields
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 10; ++j) {
      s.pred.push_back(
          rect(kX + 3.7 + i * 40, kY - 2.1 + j * 30, kX + 43.7 + i * 40, kY + 27.9 + j * 30));
    }
  }
  s.pred.push_back(rect(kX + 20, kY + 20, kX + 70, kY + 50));  // overlaps predictions
  s.pred.push_back(blob());
  for (const auto& q : s.truth) s.t.push_back(Shape::fromPolygon(q));
  for (const auto& q : s.pred) s.p.push_back(Shape::fromPolygon(q));
  // A grid with tiles of 60 m centred on this extent's corner would have its edges on x, y =
  // multiples of 60 m, i.e. along truth edges.
  s.extent.minX = kX - 30, s.extent.minY = kY - 30, s.extent.maxX = kX + 420,
  s.extent.maxY = kY + 305;
  return s;
}

eval::TileGrid gridOf(const Scene& s, double sideM) {
  std::vector<double> xs, ys;
  for (const auto* set : {&s.truth, &s.pred}) {
    for (const auto& q : *set) {
      for (const auto& v : q.exterior) xs.push_back(v.x), ys.push_back(v.y);
      for (const auto& h : q.holes) {
        for (const auto& v : h) xs.push_back(v.x), ys.push_back(v.y);
      }
    }
  }
  return eval::TileGrid(s.extent, sideM, xs, ys);
}

std::vector<Shape> boundaries(const std::vector<Shape>& shapes) {
  std::vector<Shape> out;
  for (const auto& s : shapes) out.push_back(s.boundary());
  return out;
}

// The definition on whole layers: the union of per-ring buffers, then one intersection.
// The whole layer's lines within tol of the linework, untiled, by the brute-force reference.
double nearWhole(const Shape& lines, const std::vector<Shape>& linework, double tol) {
  std::vector<std::pair<Point, Point>> segs;
  for (const auto& l : linework)
    for (const auto& line : l.lineStrings())
      for (size_t k = 0; k + 1 < line.size(); ++k) segs.emplace_back(line[k], line[k + 1]);
  return test::nearReference(lines.lineStrings(), segs, tol);
}

double totalLength(const std::vector<Shape>& byTile) {
  double l = 0;
  for (const auto& s : byTile) l += s.length();
  return l;
}

void expectClose(double actual, double expected) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::max(1.0, std::abs(expected)));
}

// Boxes far outside the grid, unbounded or NaN give the edge tiles (the cell index is clamped
// before it becomes an int).
TEST(TileGrid, RangeOfFarAndUnboundedBoxesIsTheEdgeTiles) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  ASSERT_GT(g.nx(), 2);
  ASSERT_GT(g.ny(), 2);
  const double inf = std::numeric_limits<double>::infinity(), big = 1e300;
  WorldBox all;
  all.minX = all.minY = -inf;
  all.maxX = all.maxY = inf;
  const eval::TileRange r = g.rangeOf(all, 0);
  EXPECT_EQ(r.x0, 0);
  EXPECT_EQ(r.y0, 0);
  EXPECT_EQ(r.x1, g.nx() - 1);
  EXPECT_EQ(r.y1, g.ny() - 1);
  WorldBox far;
  far.minX = far.maxX = big;
  far.minY = far.maxY = -big;
  const eval::TileRange f = g.rangeOf(far, 1e10);
  EXPECT_EQ(f.x0, g.nx() - 1);
  EXPECT_EQ(f.x1, g.nx() - 1);
  EXPECT_EQ(f.y0, 0);
  EXPECT_EQ(f.y1, 0);
  WorldBox nan;
  nan.minX = nan.maxX = nan.minY = nan.maxY = std::numeric_limits<double>::quiet_NaN();
  const eval::TileRange n = g.rangeOf(nan, 0);
  EXPECT_EQ(n.x0, 0);
  EXPECT_EQ(n.x1, 0);
  EXPECT_EQ(n.y0, 0);
  EXPECT_EQ(n.y1, 0);
}

TEST(TileGrid, EdgesAvoidTheGivenCoordinates) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  ASSERT_GT(g.count(), 20u);
  for (int x = 0; x < g.nx(); ++x) {
    WorldBox b = g.boxOf({x, 0, x, 0}, 0);
    for (const auto& q : s.truth) {
      for (const auto& v : q.exterior) {
        EXPECT_GT(std::abs(v.x - b.minX), 1e-6);
        EXPECT_GT(std::abs(v.x - b.maxX), 1e-6);
      }
    }
  }
  for (int y = 0; y < g.ny(); ++y) {
    WorldBox b = g.boxOf({0, y, 0, y}, 0);
    for (const auto& q : s.truth) {
      for (const auto& v : q.exterior) {
        EXPECT_GT(std::abs(v.y - b.minY), 1e-6);
        EXPECT_GT(std::abs(v.y - b.maxY), 1e-6);
      }
    }
  }
  // Every shape lands in the tiles its box overlaps, and only there.
  auto pieces = eval::cutIntoTiles(g, s.t, 0);
  double area = 0, whole = 0;
  for (const auto& tile : pieces) {
    for (const auto& piece : tile) area += piece.shape.area();
  }
  for (const auto& t : s.t) whole += t.area();
  expectClose(area, whole);
}

TEST(TiledMetrics, ExtentAreasEqualWholeLayerOverlays) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  ASSERT_GT(g.count(), 20u);
  Shape ut = Shape::unionOf(s.t), up = Shape::unionOf(s.p);
  auto a = eval::extentAreas(g, s.t, s.p, {});
  expectClose(a.truthM2, ut.area());
  expectClose(a.predM2, up.area());
  expectClose(a.overlapM2, ut.intersectionArea(up));
  EXPECT_GT(a.overlapM2, 0);

  const std::optional<Shape> region =
      ut.buffer(5, 8).intersection(Shape::fromPolygon(rect(kX + 50, kY - 10, kX + 330, kY + 250)));
  auto regionTiles = eval::regionByTile(g, region);
  auto r = eval::extentAreas(g, s.t, s.p, regionTiles);
  expectClose(r.truthM2, ut.intersection(*region).area());
  expectClose(r.predM2, up.intersection(*region).area());
  expectClose(r.overlapM2, ut.intersection(*region).intersectionArea(up.intersection(*region)));

  std::vector<char> which(s.p.size(), 1);
  which[3] = 0;
  auto inside = eval::areasInRegion(g, s.p, which, regionTiles);
  for (std::size_t j = 0; j < s.p.size(); ++j) {
    expectClose(inside[j], which[j] ? s.p[j].intersectionArea(*region) : 0.0);
  }
}

// Every (truth, prediction) pair's intersection and every shape's area, from the tiled sweep, equal
// GEOS's; the blob spans many tiles (cut into pieces first), the other shapes are clipped whole.
// --partial's labelled area built tile by tile is the whole layer's union buffered (and cut to an
// AOI): the same area, and the same areas of the predictions inside it.
TEST(TiledMetrics, LabelledAreaByTileIsTheBufferedUnion) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  ASSERT_GT(g.count(), 20u);
  const std::vector<Shape> some(s.t.begin(), s.t.begin() + 40);  // a partial labelling
  const std::optional<Shape> aoi = Shape::fromPolygon(rect(kX + 50, kY - 10, kX + 330, kY + 250));
  for (double buffer : {0.0, 5.0}) {
    Shape whole = Shape::unionOf(some);
    if (buffer > 0) whole = whole.buffer(buffer, 8);
    for (const bool withAoi : {false, true}) {
      const auto aoiTiles = withAoi ? eval::regionByTile(g, aoi) : std::vector<Shape>{};
      const auto tiles = eval::labelledByTile(g, some, buffer, 8, aoiTiles, 2);
      const Shape expected = withAoi ? whole.intersection(*aoi) : whole;
      double area = 0;
      for (const auto& piece : tiles) area += piece.area();
      expectClose(area, expected.area());
      std::vector<char> all(s.p.size(), 1);
      const auto inside = eval::areasInRegion(g, s.p, all, tiles);
      for (std::size_t j = 0; j < s.p.size(); ++j)
        expectClose(inside[j], s.p[j].intersectionArea(expected));
    }
  }
}

TEST(TiledMetrics, PairAreasEqualGeosIntersections) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  const eval::PairAreas a = eval::pairAreas(g, s.t, s.p, 2);
  ASSERT_EQ(a.byTruth.size(), s.t.size());
  for (std::size_t i = 0; i < s.t.size(); ++i) expectClose(a.truthM2[i], s.t[i].area());
  for (std::size_t j = 0; j < s.p.size(); ++j) expectClose(a.predM2[j], s.p[j].area());
  int pairs = 0;
  for (std::size_t i = 0; i < s.t.size(); ++i) {
    std::vector<double> found(s.p.size(), 0.0);
    for (const auto& [j, area] : a.byTruth[i]) found[j] = area;
    for (std::size_t j = 0; j < s.p.size(); ++j) {
      const double geos = s.t[i].intersectionArea(s.p[j]);
      expectClose(found[j], geos);
      if (geos > 0) ++pairs;
    }
  }
  EXPECT_GT(pairs, 100);  // the blob meets most fields
}

TEST(TiledMetrics, NearLengthsEqualWholeLayerOverlays) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  ASSERT_GT(g.count(), 20u);
  auto tb = boundaries(s.t), pb = boundaries(s.p);
  Shape bt = Shape::unionOf(tb), bp = Shape::unionOf(pb);
  const auto btTiles = eval::dissolvedByTile(g, tb, {}), bpTiles = eval::dissolvedByTile(g, pb, {});
  expectClose(totalLength(btTiles), bt.length());
  expectClose(totalLength(bpTiles), bp.length());
  for (double tol : {2.0, 5.0}) {
    const double predNear = eval::nearLength(g, bpTiles, tb, tol);
    const double truthNear = eval::nearLength(g, btTiles, pb, tol);
    expectClose(predNear, nearWhole(bp, tb, tol));
    expectClose(truthNear, nearWhole(bt, pb, tol));
    EXPECT_GT(predNear, 0.1 * bp.length());
    EXPECT_LT(truthNear, bt.length());
  }
}

// The tiles run on threads (parallel_for.hpp) and their results are combined in tile order: every
// figure is bit for bit the one a single thread gives, for 2 and 3 threads.
TEST(TiledMetrics, EveryFigureIsTheSameForAnyThreadCount) {
  Scene s = scene();
  eval::TileGrid g = gridOf(s, 60);
  ASSERT_GT(g.count(), 20u);
  const Shape ut = Shape::unionOf(s.t);
  const std::optional<Shape> region =
      ut.buffer(5, 8).intersection(Shape::fromPolygon(rect(kX + 50, kY - 10, kX + 330, kY + 250)));
  const auto regionTiles = eval::regionByTile(g, region);
  std::vector<char> which(s.p.size(), 1);
  which[2] = 0;
  auto tb = boundaries(s.t), pb = boundaries(s.p);
  const Shape bp = Shape::unionOf(pb);
  const auto a1 = eval::extentAreas(g, s.t, s.p, regionTiles, 1);
  const auto in1 = eval::areasInRegion(g, s.p, which, regionTiles, 1);
  const auto pairs1 = eval::pairAreas(g, s.t, s.p, 1);
  const auto bpTiles = eval::dissolvedByTile(g, pb, regionTiles, 1);
  const double near1 = eval::nearLength(g, bpTiles, tb, 5.0, 1);
  // The dissolved linework inside the region: that of the whole layer n R.
  expectClose(totalLength(bpTiles), bp.intersection(*region).length());
  EXPECT_GT(a1.overlapM2, 0);
  EXPECT_GT(near1, 0);
  for (int threads : {2, 3}) {
    const auto a = eval::extentAreas(g, s.t, s.p, regionTiles, threads);
    EXPECT_EQ(a.truthM2, a1.truthM2) << threads;
    EXPECT_EQ(a.predM2, a1.predM2) << threads;
    EXPECT_EQ(a.overlapM2, a1.overlapM2) << threads;
    EXPECT_EQ(eval::areasInRegion(g, s.p, which, regionTiles, threads), in1) << threads;
    const auto pairs = eval::pairAreas(g, s.t, s.p, threads);
    EXPECT_EQ(pairs.truthM2, pairs1.truthM2) << threads;
    EXPECT_EQ(pairs.predM2, pairs1.predM2) << threads;
    EXPECT_EQ(pairs.byTruth, pairs1.byTruth) << threads;
    const auto bpThreads = eval::dissolvedByTile(g, pb, regionTiles, threads);
    EXPECT_EQ(totalLength(bpThreads), totalLength(bpTiles)) << threads;
    EXPECT_EQ(eval::nearLength(g, bpThreads, tb, 5.0, threads), near1) << threads;
  }
}

}  // namespace
}  // namespace fieldseg
