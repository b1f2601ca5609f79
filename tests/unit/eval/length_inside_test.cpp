// LengthInside (src/eval/length_inside.hpp) against GEOS: the length of random polylines inside a
// union of ring buffers (many vertices, holes), of lines along the polygons' sides and through
// their vertices, in UTM-size coordinates.
#include "length_inside.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "fieldseg/geometry_metrics.hpp"

namespace fieldseg {
namespace {

constexpr double kX = 612345.25, kY = 9801234.5;

// A closed line as a Shape: the boundary of the polygon it rings.
Shape lineShape(const std::vector<Point>& line) {
  Polygon p;
  p.exterior = line;
  return Shape::fromPolygon(p).boundary();
}

double geosLengthInside(const Shape& lines, const std::vector<Shape>& polys) {
  return lines.intersection(Shape::unionOf(polys)).length();
}

void expectClose(double actual, double expected) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::max(1.0, std::abs(expected)));
}

TEST(LengthInside, RingsInsideBuffersEqualGeos) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 200);
  for (int round = 0; round < 10; ++round) {
    // Buffers of random triangles' rings (annuli with many vertices) and of squares on a lattice.
    std::vector<Shape> buffers;
    eval::LengthInside inside;
    for (int k = 0; k < 8; ++k) {
      Polygon tri;
      for (int v = 0; v < 3; ++v) tri.exterior.push_back({kX + u(rng), kY + u(rng)});
      const Shape ring = Shape::fromPolygon(tri).boundary();
      const double d = k % 2 ? 5.0 : 2.5;
      buffers.push_back(ring.buffer(d, 8));
    }
    Polygon sq{{{kX + 40, kY + 40}, {kX + 80, kY + 40}, {kX + 80, kY + 80}, {kX + 40, kY + 80}},
               {}};
    buffers.push_back(Shape::fromPolygon(sq).boundary().buffer(5, 8));
    for (const auto& b : buffers) {
      for (const auto& p : b.polygons()) inside.add(p);
    }
    // Closed test lines: random triangles, and a square whose sides run along the square
    // buffer's straight sides (x = 85 and y = 35, 5 m from the ring) and through its corners.
    std::vector<std::vector<Point>> lines;
    for (int k = 0; k < 6; ++k) {
      std::vector<Point> l;
      for (int v = 0; v < 3; ++v) l.push_back({kX + u(rng), kY + u(rng)});
      l.push_back(l.front());
      lines.push_back(l);
    }
    lines.push_back({{kX + 35, kY + 35},
                     {kX + 85, kY + 35},
                     {kX + 85, kY + 85},
                     {kX + 35, kY + 85},
                     {kX + 35, kY + 35}});
    for (const auto& l : lines) {
      std::vector<Point> ring(l.begin(), l.end() - 1);
      const Shape shape = lineShape(ring);
      expectClose(inside.polyline(l), geosLengthInside(shape, buffers));
    }
  }
}

TEST(LengthInside, SegmentsOnTheBoundaryCountAsInside) {
  eval::LengthInside inside;
  inside.add(Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {{{3, 3}, {3, 6}, {6, 6}, {6, 3}}}});
  EXPECT_DOUBLE_EQ(inside.segment({-5, 0}, {15, 0}), 10.0);  // along the bottom side
  EXPECT_DOUBLE_EQ(inside.segment({-5, 5}, {15, 5}), 7.0);   // across the hole (its sides count)
  EXPECT_DOUBLE_EQ(inside.segment({3, -1}, {3, 11}), 10.0);  // along the hole's left side
  EXPECT_DOUBLE_EQ(inside.segment({11, 0}, {20, 0}), 0.0);
  EXPECT_DOUBLE_EQ(inside.polyline({{4, 4}, {5, 5}}), 0.0);  // inside the hole
}

// Along a sloped side in UTM-size coordinates, and past its end: only the part beside the side is
// on it.
TEST(LengthInside, SegmentsAlongASlopedSideStopAtItsEnd) {
  eval::LengthInside inside;
  inside.add(Polygon{{{kX, kY}, {kX + 10, kY + 10}, {kX + 20, kY}}, {}});
  EXPECT_NEAR(inside.segment({kX - 5, kY - 5}, {kX + 5, kY + 5}), 5 * std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(inside.segment({kX + 5, kY + 5}, {kX + 15, kY + 15}), 5 * std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(inside.segment({kX + 12, kY + 12}, {kX + 15, kY + 15}), 0.0, 1e-9);
}

}  // namespace
}  // namespace fieldseg
