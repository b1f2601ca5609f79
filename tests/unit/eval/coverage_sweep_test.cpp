// CoverageSweep (src/eval/coverage_sweep.hpp) against GEOS overlays of the same layers: random
// triangles and rectangles that cross, overlap within a layer, share edges and vertices, with
// holes and both ring orientations, in UTM-size coordinates, over boxes that cut them.
#include "coverage_sweep.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "fieldseg/geometry_metrics.hpp"

namespace fieldseg {
namespace {

constexpr double kX = 612345.25, kY = 9801234.5;

Polygon rect(double x0, double y0, double x1, double y1) {
  return Polygon{{{kX + x0, kY + y0}, {kX + x1, kY + y0}, {kX + x1, kY + y1}, {kX + x0, kY + y1}},
                 {}};
}

WorldBox box(double x0, double y0, double x1, double y1) {
  WorldBox b;
  b.minX = kX + x0, b.minY = kY + y0, b.maxX = kX + x1, b.maxY = kY + y1;
  return b;
}

// Random layers: triangles (any orientation), axis-aligned rectangles on a 5 m lattice (edges
// and vertices shared with each other), and a frame with a hole.
std::vector<Polygon> layer(std::mt19937& rng, int n) {
  std::uniform_real_distribution<double> u(0, 100);
  std::uniform_int_distribution<int> lattice(0, 20);
  std::vector<Polygon> out;
  for (int i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      Polygon p;
      for (int k = 0; k < 3; ++k) p.exterior.push_back({kX + u(rng), kY + u(rng)});
      out.push_back(p);
    } else {
      int x0 = lattice(rng), y0 = lattice(rng), x1 = lattice(rng), y1 = lattice(rng);
      if (x0 == x1 || y0 == y1) continue;
      if (x1 < x0) std::swap(x0, x1);
      if (y1 < y0) std::swap(y0, y1);
      out.push_back(rect(5.0 * x0, 5.0 * y0, 5.0 * x1, 5.0 * y1));
    }
  }
  Polygon frame = rect(10, 10, 90, 90);
  frame.holes.push_back(rect(30, 30, 70, 70).exterior);
  std::reverse(frame.holes.back().begin(), frame.holes.back().end());
  out.push_back(frame);
  return out;
}

std::vector<Shape> shapes(const std::vector<Polygon>& polys) {
  std::vector<Shape> out;
  for (const auto& p : polys) out.push_back(Shape::fromPolygon(p));
  return out;
}

// The valid polygons of a layer (MakeValid's output, as evaluate builds them).
std::vector<Polygon> validPolygons(const std::vector<Shape>& s) {
  std::vector<Polygon> out;
  for (const auto& sh : s) {
    for (auto& p : sh.polygons()) out.push_back(std::move(p));
  }
  return out;
}

void expectClose(double actual, double expected) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::max(1.0, std::abs(expected)));
}

TEST(CoverageSweep, AreasEqualGeosOverlaysOnRandomLayers) {
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    const auto t = shapes(layer(rng, 12)), p = shapes(layer(rng, 12));
    const Shape ut = Shape::unionOf(t), up = Shape::unionOf(p);
    const Shape region = Shape::fromPolygon(Polygon{
        {{kX + 5, kY + 50}, {kX + 50, kY + 3}, {kX + 97, kY + 50}, {kX + 50, kY + 96}}, {}});
    const WorldBox whole = box(-1, -1, 101, 101);
    // Four boxes that cut the shapes, summed, and the whole box: both give the GEOS areas.
    for (bool inRegion : {false, true}) {
      const Shape ct = inRegion ? ut.intersection(region) : ut;
      const Shape cp = inRegion ? up.intersection(region) : up;
      auto sweepOver = [&](const WorldBox& b) {
        eval::CoverageSweep sweep(b);
        for (const auto& q : validPolygons(t)) sweep.add(0, q);
        for (const auto& q : validPolygons(p)) sweep.add(1, q);
        if (inRegion) {
          for (const auto& q : region.polygons()) sweep.add(2, q);
        }
        return sweep.areas(inRegion);
      };
      eval::CoverageSweep::Areas sum;
      for (const WorldBox& b : {box(-1, -1, 37.3, 41.1), box(37.3, -1, 101, 41.1),
                                box(-1, 41.1, 37.3, 101), box(37.3, 41.1, 101, 101)}) {
        const auto a = sweepOver(b);
        sum.first += a.first, sum.second += a.second, sum.both += a.both;
      }
      expectClose(sum.first, ct.area());
      expectClose(sum.second, cp.area());
      expectClose(sum.both, ct.intersectionArea(cp));
      const auto a = sweepOver(whole);
      expectClose(a.first, ct.area());
      expectClose(a.second, cp.area());
      expectClose(a.both, ct.intersectionArea(cp));
    }
  }
}

TEST(CoverageSweep, SharedEdgesAndIdenticalLayersGiveExactAreas) {
  // Two abutting squares in layer 0, the same two in layer 1 with the other orientation, and a
  // vertex of layer 1 in the middle of a layer-0 edge.
  eval::CoverageSweep sweep(box(-5, -5, 25, 25));
  Polygon a = rect(0, 0, 10, 10), b = rect(10, 0, 20, 10);
  sweep.add(0, a);
  sweep.add(0, b);
  std::reverse(a.exterior.begin(), a.exterior.end());
  sweep.add(1, a);
  sweep.add(1, b);
  sweep.add(1, Polygon{{{kX + 5, kY + 10}, {kX + 15, kY + 10}, {kX + 10, kY + 15}}, {}});
  const auto r = sweep.areas(false);
  EXPECT_DOUBLE_EQ(r.first, 200.0);
  EXPECT_DOUBLE_EQ(r.second, 225.0);
  EXPECT_DOUBLE_EQ(r.both, 200.0);
  // Nothing inside an empty region layer.
  EXPECT_EQ(sweep.areas(true).first, 0.0);
}

// Owners: identical shapes get bit-identical own and pair areas (IoU exactly 1); a layer-2 ring
// changes nothing of layers 0 and 1; abutting shapes share no area.
TEST(CoverageSweep, OwnerAreasOfIdenticalAndAbuttingShapes) {
  const Polygon tri{{{kX + 1.3, kY + 2.1}, {kX + 17.9, kY + 4.7}, {kX + 8.2, kY + 19.3}}, {}};
  const Polygon right = rect(20, 0, 30, 10), left = rect(10, 0, 20, 10);
  for (bool withRegion : {false, true}) {
    eval::CoverageSweep sweep(box(0, 0, 25, 25));  // cuts `right`
    sweep.add(0, tri, 7);
    sweep.add(1, tri, 3);
    sweep.add(0, left, 8);
    sweep.add(1, right, 4);
    if (withRegion) sweep.add(2, rect(5, 5, 15, 15));
    const auto o = sweep.ownerAreas();
    auto own = [](const std::vector<eval::CoverageSweep::Owned>& v, std::size_t owner) {
      for (const auto& x : v) {
        if (x.owner == owner) return x.area;
      }
      return -1.0;
    };
    auto pair = [&](std::size_t t, std::size_t p) {
      for (const auto& x : o.overlaps) {
        if (x.first == t && x.second == p) return x.area;
      }
      return 0.0;
    };
    EXPECT_EQ(own(o.first, 7), own(o.second, 3)) << withRegion;
    EXPECT_EQ(pair(7, 3), own(o.first, 7)) << withRegion;
    EXPECT_NEAR(own(o.first, 7), Shape::fromPolygon(tri).area(), 1e-9) << withRegion;
    EXPECT_NEAR(own(o.first, 8), 100.0, 1e-9) << withRegion;
    EXPECT_NEAR(own(o.second, 4), 50.0, 1e-9) << withRegion;  // inside the box only
    EXPECT_EQ(pair(8, 4), 0.0) << withRegion;                 // they only touch
    // GEOS cuts the edges in absolute UTM coordinates: its area carries ~1e-9 relative rounding.
    expectClose(pair(8, 3), Shape::fromPolygon(tri).intersectionArea(Shape::fromPolygon(left)));
  }
}

}  // namespace
}  // namespace fieldseg
