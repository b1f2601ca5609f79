// traceOutlines against GDALPolygonize (polygonizeMask) on hand-made and random masks: the same
// regions with the same rings, valid polygons, every pixel centre inside exactly the polygon of
// its region; where pixels of a region touch only at a corner, the same area and valid rings.
#include "trace_outlines.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace fieldseg::post {
namespace {

bool sameRing(const Ring& a, const Ring& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].x != b[i].x || a[i].y != b[i].y) return false;
  return true;
}

// The same ring in either direction (GDALPolygonize's ring directions vary).
bool sameRingEitherWay(const Ring& a, const Ring& b) {
  Ring reversed(b.rbegin(), b.rend());
  return sameRing(a, b) || sameRing(a, canonicalRing(reversed));
}

std::string show(const Ring& r) {
  std::string s;
  for (const auto& p : r) s += "(" + std::to_string(p.x) + "," + std::to_string(p.y) + ")";
  return s;
}

// Whether any vertex occurs twice in the polygon's rings (GDAL and the tracer may then split
// the border into rings differently).
bool touchesAtACorner(const Polygon& p) {
  std::vector<std::pair<double, double>> v;
  for (const auto& q : p.exterior) v.emplace_back(q.x, q.y);
  for (const auto& h : p.holes)
    for (const auto& q : h) v.emplace_back(q.x, q.y);
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) != v.end();
}

double areaWithHoles(const Polygon& p) {
  Polygon outer;
  outer.exterior = p.exterior;
  double a = areaOf(outer);
  for (const auto& h : p.holes) {
    Polygon hole;
    hole.exterior = h;
    a -= areaOf(hole);
  }
  return a;
}

// Compares the tracer with GDAL on one mask; returns how many regions touch at a corner.
int expectSameAsGdal(const std::vector<std::uint8_t>& mask, int rows, int cols, long long ox,
                     long long oy) {
  const auto gdal = polygonizeMask(mask.data(), rows, cols, ox, oy);
  const auto ours = traceOutlines(mask.data(), rows, cols, ox, oy);
  EXPECT_EQ(ours.size(), gdal.size());
  if (ours.size() != gdal.size()) return 0;
  int touching = 0;
  // GDAL lists regions in its own order: pair them by the first vertex of the exterior.
  for (const Polygon& g : gdal) {
    auto it = std::find_if(ours.begin(), ours.end(), [&](const Polygon& p) {
      return p.exterior[0].x == g.exterior[0].x && p.exterior[0].y == g.exterior[0].y;
    });
    EXPECT_NE(it, ours.end()) << "no region starts at " << show({g.exterior[0]});
    if (it == ours.end()) continue;
    const Polygon& p = *it;
    std::string reason;
    EXPECT_TRUE(isValid(p, &reason)) << reason << " " << show(p.exterior);
    EXPECT_DOUBLE_EQ(areaWithHoles(p), areaWithHoles(g)) << show(g.exterior);
    if (touchesAtACorner(g) || touchesAtACorner(p)) {
      ++touching;
      continue;
    }
    EXPECT_TRUE(sameRingEitherWay(p.exterior, g.exterior))
        << show(p.exterior) << " vs " << show(g.exterior);
    EXPECT_EQ(p.holes.size(), g.holes.size()) << show(g.exterior);
    for (const Ring& h : g.holes) {
      const bool found = std::any_of(p.holes.begin(), p.holes.end(),
                                     [&](const Ring& q) { return sameRingEitherWay(q, h); });
      EXPECT_TRUE(found) << "hole " << show(h) << " of " << show(g.exterior);
    }
  }
  // Every pixel centre lies in the polygon of its region and in no other.
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const Point centre{static_cast<double>(ox + c) + 0.5, static_cast<double>(oy + r) + 0.5};
      int in = 0;
      for (const Polygon& p : ours) in += containsPoint(p, centre) ? 1 : 0;
      EXPECT_EQ(in, mask[static_cast<size_t>(r) * cols + c] ? 1 : 0) << "pixel " << r << "," << c;
    }
  return touching;
}

std::vector<std::uint8_t> parse(const std::vector<std::string>& rows) {
  std::vector<std::uint8_t> m;
  for (const auto& r : rows)
    for (char ch : r) m.push_back(ch == '#' ? 1 : 0);
  return m;
}

TEST(TraceOutlines, ABlockWithAHoleIsOneRingAndOneHole) {
  const auto m = parse({"......", ".####.", ".#..#.", ".####.", "......"});
  const auto p = traceOutlines(m.data(), 5, 6, 10, 20);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(sameRing(p[0].exterior, {{11, 21}, {11, 24}, {15, 24}, {15, 21}}))
      << show(p[0].exterior);
  ASSERT_EQ(p[0].holes.size(), 1u);
  EXPECT_TRUE(sameRing(p[0].holes[0], {{12, 22}, {12, 23}, {14, 23}, {14, 22}}))
      << show(p[0].holes[0]);
  expectSameAsGdal(m, 5, 6, 10, 20);
}

TEST(TraceOutlines, PixelsTouchingAtACornerAreSeparateRegions) {
  const auto m = parse({"#.", ".#"});
  const auto p = traceOutlines(m.data(), 2, 2);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(sameRing(p[0].exterior, {{0, 0}, {0, 1}, {1, 1}, {1, 0}})) << show(p[0].exterior);
  EXPECT_TRUE(sameRing(p[1].exterior, {{1, 1}, {1, 2}, {2, 2}, {2, 1}})) << show(p[1].exterior);
  expectSameAsGdal(m, 2, 2, 0, 0);
}

TEST(TraceOutlines, ARegionTouchingItselfAtACornerGivesAValidPolygon) {
  // A ring of pixels closed only at a corner: the inside is open to the outside there
  // (background is 8-connected), so the exterior runs around it and meets itself at that corner;
  // the tracer splits it into an exterior and a hole sharing the corner.
  const auto m = parse({".....", ".###.", ".#.#.", ".##..", "....."});
  const auto p = traceOutlines(m.data(), 5, 5);
  ASSERT_EQ(p.size(), 1u);
  ASSERT_EQ(p[0].holes.size(), 1u);
  EXPECT_TRUE(sameRing(p[0].holes[0], {{2, 2}, {2, 3}, {3, 3}, {3, 2}})) << show(p[0].holes[0]);
  std::string reason;
  EXPECT_TRUE(isValid(p[0], &reason)) << reason;
  EXPECT_EQ(expectSameAsGdal(m, 5, 5, 0, 0), 1);
  // Two holes meeting at a corner, and regions on the mask's edge.
  const auto m2 = parse({"#####", "#.###", "##.##", "#####"});
  expectSameAsGdal(m2, 4, 5, -3, 7);
}

TEST(TraceOutlines, EmptyAndFullMasks) {
  std::vector<std::uint8_t> zeros(12, 0), ones(12, 1);
  EXPECT_TRUE(traceOutlines(zeros.data(), 3, 4).empty());
  EXPECT_TRUE(traceOutlines(nullptr, 0, 4).empty());
  const auto p = traceOutlines(ones.data(), 3, 4);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(sameRing(p[0].exterior, {{0, 0}, {0, 3}, {4, 3}, {4, 0}})) << show(p[0].exterior);
  EXPECT_TRUE(p[0].holes.empty());
}

TEST(TraceOutlines, RandomMasksGiveGdalsPolygons) {
  std::mt19937 rng(20261207);
  int touching = 0, regions = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int rows = 1 + static_cast<int>(rng() % 40), cols = 1 + static_cast<int>(rng() % 40);
    // Dense masks make holes; sparse ones make many small regions and corner contacts.
    const double density = 0.3 + 0.6 * (trial % 7) / 6.0;
    std::bernoulli_distribution on(density);
    std::vector<std::uint8_t> m(static_cast<size_t>(rows) * cols);
    for (auto& v : m) v = on(rng) ? 1 : 0;
    regions += static_cast<int>(traceOutlines(m.data(), rows, cols).size());
    touching += expectSameAsGdal(m, rows, cols, trial, -trial);
  }
  // Not vacuous: both the plain rings and the corner cases were compared.
  EXPECT_GT(regions, 1000);
  EXPECT_GT(touching, 10);
}

}  // namespace
}  // namespace fieldseg::post
