// Shape::difference and PreparedShape (include/fieldseg/geometry_metrics.hpp) on hand-made shapes.
#include "fieldseg/geometry_metrics.hpp"

#include <gtest/gtest.h>

namespace fieldseg {
namespace {

Shape square(double x0, double y0, double side) {
  return Shape::fromPolygon(
      Polygon{{{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}}, {}});
}

TEST(PreparedShape, ContainsIntersectsAndDifference) {
  const Shape a = square(0, 0, 10);
  const PreparedShape p(a);
  EXPECT_TRUE(p.contains(square(2, 2, 3)));
  EXPECT_FALSE(p.contains(square(8, 8, 5)));
  EXPECT_TRUE(p.intersects(square(8, 8, 5)));
  EXPECT_FALSE(p.intersects(square(20, 20, 5)));
  EXPECT_FALSE(p.contains(Shape()));
  EXPECT_FALSE(PreparedShape(Shape()).intersects(a));

  // The ring of `a` (40 m) minus a square over x in [4, 7] of its bottom edge.
  const Shape ring = a.boundary();
  ASSERT_NEAR(ring.length(), 40, 1e-12);
  EXPECT_NEAR(ring.difference(square(4, -1, 3)).length(), 37, 1e-12);
  EXPECT_NEAR(ring.difference(Shape()).length(), 40, 1e-12);
  EXPECT_NEAR(a.difference(square(5, 5, 10)).area(), 75, 1e-12);
  EXPECT_TRUE(PreparedShape(square(-1, -1, 12)).contains(ring));
  EXPECT_FALSE(PreparedShape(square(4, -1, 3)).contains(ring));
  EXPECT_TRUE(PreparedShape(square(4, -1, 3)).intersects(ring));
}

}  // namespace
}  // namespace fieldseg
