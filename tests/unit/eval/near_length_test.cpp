// NearSegments (src/eval/near_length.hpp): lengths within r of segments, on cases whose answer is
// known in closed form and on random segments against the brute-force reference
// (near_reference.hpp: convexity + bisection, no capsule algebra); and against GEOS buffers with
// many segments per quarter circle, which approach the exact distance from inside.
#include "near_length.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fieldseg/geometry_metrics.hpp"
#include "near_reference.hpp"
#include "world_box_ops.hpp"

namespace fieldseg {
namespace {

// [x0, x1] x [y0, y1]
WorldBox box(double x0, double y0, double x1, double y1) { return eval::boxOf(x0, y0, x1, y1); }

TEST(NearSegments, ClosedFormCases) {
  // Far from the origin, as UTM coordinates are.
  const double X = 600000, Y = 9800000;
  eval::NearSegments near(box(X - 20, Y - 20, X + 30, Y + 20), 2.0);
  near.add({X, Y}, {X + 10, Y});
  const double s3 = std::sqrt(3.0);
  // A parallel line 1 m away: the rectangle plus a cap chord at each end.
  EXPECT_NEAR(near.length({{X - 5, Y + 1}, {X + 15, Y + 1}}), 10 + 2 * s3, 1e-9);
  // Exactly r away counts (closed), further does not.
  EXPECT_NEAR(near.length({{X - 5, Y + 2}, {X + 15, Y + 2}}), 10, 1e-9);
  EXPECT_EQ(near.length({{X - 5, Y + 2.001}, {X + 15, Y + 2.001}}), 0);
  // Across the cap at P: the chord of the disc, 1 m from its centre.
  EXPECT_NEAR(near.length({{X - 1, Y - 5}, {X - 1, Y + 5}}), 2 * s3, 1e-9);
  // A polyline: a vertex inside, one piece across the middle of the segment (4 m inside).
  EXPECT_NEAR(near.length({{X + 5, Y - 10}, {X + 5, Y + 10}}), 4, 1e-9);
  // A second, overlapping segment does not count twice.
  near.add({X + 4, Y}, {X + 20, Y});
  EXPECT_NEAR(near.length({{X - 5, Y + 1}, {X + 25, Y + 1}}), 20 + 2 * s3, 1e-9);
  // A point as a segment: a disc.
  eval::NearSegments dot(box(X - 5, Y - 5, X + 5, Y + 5), 1.0);
  dot.add({X, Y}, {X, Y});
  EXPECT_NEAR(dot.length({{X - 3, Y}, {X + 3, Y}}), 2, 1e-9);
  EXPECT_TRUE(eval::NearSegments(box(0, 0, 1, 1), 1).empty());
}

TEST(NearSegments, RandomSegmentsEqualTheReference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 60);
  const double X = 500000, Y = 4000000;
  for (int trial = 0; trial < 20; ++trial) {
    const double r = 1 + trial % 5;
    eval::NearSegments near(box(X, Y, X + 60, Y + 60), r);
    std::vector<std::pair<Point, Point>> segs;
    for (int k = 0; k < 30; ++k) {
      Point a{X + u(rng), Y + u(rng)}, b{X + u(rng), Y + u(rng)};
      if (k % 7 == 0) b = {a.x + 5, a.y};  // axis-aligned, as pixel edges
      segs.emplace_back(a, b);
      near.add(a, b);
    }
    std::vector<std::vector<Point>> lines;
    double got = 0;
    for (int k = 0; k < 10; ++k) {
      std::vector<Point> line;
      for (int v = 0; v < 4; ++v) line.push_back({X + u(rng), Y + u(rng)});
      got += near.length(line);
      lines.push_back(line);
    }
    const double want = test::nearReference(lines, segs, r);
    EXPECT_NEAR(got, want, 1e-9 * want) << "trial " << trial;
    EXPECT_GT(want, 0);
  }
}

// GEOS buffers (round, n segments a quarter circle) lie inside the exact distance; with many
// segments they give the same length up to the chords' sagitta (r (1 - cos(pi / 4n))).
TEST(NearSegments, GeosBuffersApproachTheExactLength) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 40);
  const double X = 500000, Y = 4000000, r = 3;
  eval::NearSegments near(box(X - 10, Y - 10, X + 50, Y + 50), r);
  std::vector<Shape> buffers8, buffers256;
  for (int k = 0; k < 6; ++k) {  // triangle outlines as the reference linework
    Polygon tri;
    tri.exterior = {{X + u(rng), Y + u(rng)}, {X + u(rng), Y + u(rng)}, {X + u(rng), Y + u(rng)}};
    const Shape ring = Shape::fromPolygon(tri).boundary();
    for (const auto& l : ring.lineStrings())
      for (size_t v = 0; v + 1 < l.size(); ++v) near.add(l[v], l[v + 1]);
    buffers8.push_back(ring.buffer(r, 8));
    buffers256.push_back(ring.buffer(r, 256));
  }
  Polygon q;  // the query: a rectangle's outline across the triangles
  q.exterior = {{X - 5, Y + 7}, {X + 45, Y + 7}, {X + 45, Y + 33}, {X - 5, Y + 33}};
  const Shape line = Shape::fromPolygon(q).boundary();
  double exact = 0;
  for (const auto& l : line.lineStrings()) exact += near.length(l);
  const double g8 = line.intersection(Shape::unionOf(buffers8)).length();
  const double g256 = line.intersection(Shape::unionOf(buffers256)).length();
  EXPECT_GT(exact, 10);
  EXPECT_LE(g8, exact + 1e-9);
  EXPECT_LE(g256, exact + 1e-9);
  EXPECT_NEAR(g256, exact, 1e-4 * exact);
  EXPECT_LE(exact - g256, exact - g8 + 1e-12);
}

}  // namespace
}  // namespace fieldseg
