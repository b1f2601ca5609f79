// Shape (include/fieldseg/geometry_metrics.hpp): its plain-coordinate accessors on hand-made
// shapes.
#include "fieldseg/geometry_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fieldseg {
namespace {

Shape square(double x0, double y0, double side) {
  return Shape::fromPolygon(
      Polygon{{{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}}, {}});
}

TEST(Shape, PolygonsAndLineStringsGiveThePlainCoordinates) {
  Polygon holed{{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {{{2, 2}, {2, 4}, {4, 4}, {4, 2}}}};
  const Shape a = Shape::fromPolygon(holed);
  const auto polys = a.polygons();
  ASSERT_EQ(polys.size(), 1u);
  EXPECT_EQ(polys[0].exterior.size(), 4u);  // no repeated closing point
  ASSERT_EQ(polys[0].holes.size(), 1u);
  EXPECT_EQ(polys[0].holes[0].size(), 4u);
  EXPECT_TRUE(a.lineStrings().empty());

  // Two squares apart: a multipolygon; their boundaries: three closed lines.
  const Shape two = Shape::unionOf({a, square(20, 0, 5)});
  EXPECT_EQ(two.polygons().size(), 2u);
  const auto lines = two.boundary().lineStrings();
  ASSERT_EQ(lines.size(), 3u);
  double length = 0;
  for (const auto& l : lines) {
    EXPECT_DOUBLE_EQ(l.front().x, l.back().x);  // closed: first point repeated
    EXPECT_DOUBLE_EQ(l.front().y, l.back().y);
    for (std::size_t i = 0; i + 1 < l.size(); ++i)
      length += std::hypot(l[i + 1].x - l[i].x, l[i + 1].y - l[i].y);
  }
  EXPECT_DOUBLE_EQ(length, 40 + 8 + 20);
  EXPECT_TRUE(Shape().polygons().empty());
  EXPECT_TRUE(Shape().lineStrings().empty());
}

}  // namespace
}  // namespace fieldseg
