// dissolve_lines.hpp: orientation() is exact (checked against integer arithmetic on near-collinear
// points where the floating-point determinant cannot be trusted), and the tiled dissolve gives
// the length of GEOS's union of the linework on random layers with shared, partly overlapping
// and slanted collinear edges, cut into tiles.
#include "dissolve_lines.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>

#include "tiled_metrics.hpp"
#include "world_box_ops.hpp"

namespace fieldseg {
namespace {

__extension__ typedef __int128 Int128;

// Coordinates n / 1024 (n < 2^53): the determinant in units of 2^-20 fits in 128 bits.
int exactSign(long long ax, long long ay, long long bx, long long by, long long cx, long long cy) {
  const Int128 d =
      static_cast<Int128>(ax - cx) * (by - cy) - static_cast<Int128>(ay - cy) * (bx - cx);
  return d > 0 ? 1 : (d < 0 ? -1 : 0);
}

TEST(Orientation, ExactOnNearlyCollinearPoints) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<long long> big(1LL << 50, 1LL << 51), step(1, 1LL << 31),
      along(1, 1LL << 20);
  int zeros = 0, filtered = 0;
  for (int i = 0; i < 20000; ++i) {
    const long long ax = big(rng), ay = big(rng), dx = step(rng), dy = step(rng);
    const long long k = along(rng);  // k d < 2^51: every coordinate stays below 2^53
    // c on the line a + k d, moved by -1, 0 or +1 unit in y
    const long long bx = ax + dx, by = ay + dy, cx = ax + k * dx, cy = ay + k * dy + (i % 3) - 1;
    const auto f = [](long long v) { return static_cast<double>(v) / 1024.0; };
    const int got = eval::orientation({f(ax), f(ay)}, {f(bx), f(by)}, {f(cx), f(cy)});
    ASSERT_EQ(got, exactSign(ax, ay, bx, by, cx, cy)) << i;
    zeros += got == 0;
    // How often the plain floating-point sign is wrong here: the case the exact stage is for.
    const double det = (f(ax) - f(cx)) * (f(by) - f(cy)) - (f(ay) - f(cy)) * (f(bx) - f(cx));
    filtered += (det > 0 ? 1 : (det < 0 ? -1 : 0)) != got;
  }
  EXPECT_GT(zeros, 5000);
  EXPECT_GT(filtered, 100) << "the cases should defeat plain floating point";
}

// [x0, x1] x [y0, y1]
WorldBox box(double x0, double y0, double x1, double y1) { return eval::boxOf(x0, y0, x1, y1); }

// Random rectangles on a 2 m lattice (shared and partly overlapping edges) and parallelograms
// with slanted sides on common lines (collinear overlaps that are not axis-parallel), in UTM-size
// coordinates; the tiled dissolve's length equals GEOS's union of all the rings.
TEST(DissolveLines, LengthIsTheUnionsOnRandomLayers) {
  const double X = 600000, Y = 9800000;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> cell(0, 20), size(1, 12);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<Shape> rings;
    for (int k = 0; k < 60; ++k) {
      const double x = X + 2 * cell(rng), y = Y + 2 * cell(rng);
      Polygon p;
      if (k % 3 == 0) {  // a parallelogram with sides of slope 2 on lines through the lattice
        const double w = 2 * size(rng), h = 2 * size(rng);
        p.exterior = {{x, y}, {x + w, y}, {x + w + h, y + 2 * h}, {x + h, y + 2 * h}};
      } else {
        p.exterior = {{x, y},
                      {x + 2 * size(rng), y},
                      {x + 2 * size(rng), y + 2 * size(rng)},
                      {x, y + 2 * size(rng)}};
        p.exterior[2].x = p.exterior[1].x, p.exterior[3].y = p.exterior[2].y;
      }
      rings.push_back(Shape::fromPolygon(p).boundary());
    }
    std::vector<double> xs, ys;
    for (const auto& r : rings)
      for (const auto& l : r.lineStrings())
        for (const auto& v : l) xs.push_back(v.x), ys.push_back(v.y);
    const eval::TileGrid grid(box(X - 5, Y - 5, X + 130, Y + 130), 17, xs, ys);
    ASSERT_GT(grid.count(), 30u);
    const auto byTile = eval::dissolvedSegmentsByTile(grid, rings, 1 + trial % 2);
    double length = 0;
    for (const auto& tile : byTile)
      for (const auto& s : tile) length += std::hypot(s[1].x - s[0].x, s[1].y - s[0].y);
    const double geos = Shape::unionOf(rings).length();
    EXPECT_NEAR(length, geos, 1e-9 * geos) << "trial " << trial;
    // The same as the GEOS dissolve by tile, and near lengths from either agree.
    const auto shapes = eval::dissolvedByTile(grid, rings, {});
    EXPECT_NEAR(eval::nearLength(grid, byTile, rings, 3.0),
                eval::nearLength(grid, shapes, rings, 3.0), 1e-9 * geos);
    double sum = 0;
    for (const auto& r : rings) sum += r.length();
    EXPECT_LT(length, 0.9 * sum) << "not vacuous: many edges overlap";
    // Both sets' boundary lengths, unbounded and inside a region (a square frame with rounded
    // corners, crossing the edges at many angles), as the GEOS path gives them.
    std::vector<Shape> truth(rings.begin(), rings.begin() + 30),
        pred(rings.begin() + 30, rings.end());
    Polygon frame;
    frame.exterior = {{X + 20, Y + 20}, {X + 100, Y + 20}, {X + 100, Y + 100}, {X + 20, Y + 100}};
    frame.holes = {{{X + 45, Y + 45}, {X + 45, Y + 75}, {X + 75, Y + 75}, {X + 75, Y + 45}}};
    const std::optional<Shape> region = Shape::fromPolygon(frame).buffer(7.3, 8);
    for (const auto& regionTiles : {std::vector<Shape>{}, eval::regionByTile(grid, region)}) {
      auto none = [](int) { return eval::ProgressFn{}; };
      const auto fast = eval::boundaryLengths(grid, truth, pred, regionTiles, 4.0, 2, none);
      const auto geos = eval::boundaryLengthsWithGeos(grid, truth, pred, regionTiles, 4.0, 2, none);
      EXPECT_NEAR(fast.truthM, geos.truthM, 1e-9 * geos.truthM);
      EXPECT_NEAR(fast.predM, geos.predM, 1e-9 * geos.predM);
      EXPECT_NEAR(fast.predNearM, geos.predNearM, 1e-9 * geos.predM);
      EXPECT_NEAR(fast.truthNearM, geos.truthNearM, 1e-9 * geos.truthM);
      EXPECT_GT(geos.predNearM, 0);
      if (!regionTiles.empty()) {
        EXPECT_LT(geos.truthM, length);
      }
    }
  }
}

}  // namespace
}  // namespace fieldseg
