// Tests of include/fieldseg/geometry.hpp (planar ops through GEOS, measures on the ellipsoid).
#include "fieldseg/geometry.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fieldseg {
namespace {

Polygon rect(double x0, double y0, double x1, double y1) {
  return Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, {}};
}

TEST(Geometry, AreaPerimeterWithHole) {
  Polygon p = rect(0, 0, 10, 10);
  p.holes.push_back({{2, 2}, {2, 4}, {4, 4}, {4, 2}});
  EXPECT_DOUBLE_EQ(areaOf(p), 96.0);
  EXPECT_DOUBLE_EQ(perimeterOf(p), 48.0);
  EXPECT_TRUE(isValid(p));
}

TEST(Geometry, OrientationRfc7946) {
  Polygon p = rect(0, 0, 10, 10);
  std::reverse(p.exterior.begin(), p.exterior.end());   // now clockwise
  p.holes.push_back({{2, 2}, {4, 2}, {4, 4}, {2, 4}});  // counter-clockwise
  Polygon o = oriented(p, true);
  EXPECT_GT(signedRingArea(o.exterior), 0);
  EXPECT_LT(signedRingArea(o.holes[0]), 0);
  EXPECT_DOUBLE_EQ(areaOf(o), areaOf(p));
}

TEST(Geometry, InvalidBowtieIsRepaired) {
  Polygon bowtie{{{0, 0}, {10, 10}, {10, 0}, {0, 10}}, {}};
  std::string why;
  EXPECT_FALSE(isValid(bowtie, &why));
  EXPECT_FALSE(why.empty());
  auto parts = makeValid(bowtie);
  ASSERT_EQ(parts.size(), 2u);
  double total = 0;
  for (const auto& q : parts) {
    EXPECT_TRUE(isValid(q));
    total += areaOf(q);
  }
  EXPECT_NEAR(total, 50.0, 1e-9);  // two triangles of 25
}

TEST(Geometry, IntersectionUnionIou) {
  Polygon a = rect(0, 0, 10, 10), b = rect(5, 0, 15, 10), c = rect(20, 20, 21, 21);
  EXPECT_NEAR(intersectionArea(a, b), 50.0, 1e-9);
  EXPECT_NEAR(iouOf(a, b), 50.0 / 150.0, 1e-12);
  EXPECT_EQ(intersectionArea(a, c), 0.0);
  EXPECT_TRUE(intersects(a, b));
  EXPECT_FALSE(intersects(a, c));
  auto u = unionOf({a, b, c});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_NEAR(areaOf(u[0]) + areaOf(u[1]), 151.0, 1e-9);
  EXPECT_TRUE(containsPoint(a, {5, 5}));
  EXPECT_FALSE(containsPoint(a, {11, 5}));
}

TEST(Geometry, SimplifyKeepsShapeAndValidity) {
  // A 100 x 100 square with small zig-zags along the bottom edge.
  Polygon p;
  for (int x = 0; x <= 100; x += 2) p.exterior.push_back({double(x), (x / 2) % 2 ? 0.4 : 0.0});
  p.exterior.push_back({100, 100});
  p.exterior.push_back({0, 100});
  Polygon s = simplifyPreserveTopology(p, 1.0);
  EXPECT_LT(s.exterior.size(), p.exterior.size());
  EXPECT_TRUE(isValid(s));
  EXPECT_NEAR(areaOf(s), areaOf(p), 0.5 * 100);
  EXPECT_EQ(simplifyPreserveTopology(p, 0).exterior.size(), p.exterior.size());
}

// UTM scale factor is 0.9996 on the central meridian, so a 100 m x 100 m square in grid metres
// is (100 / 0.9996)^2 m2 on the ellipsoid there.
TEST(Geometry, GeodesicAreaUtmCentralMeridian) {
  Crs utm = Crs::fromEpsg(32633);  // central meridian 15E
  Polygon p = rect(500000 - 50, 5000000, 500000 + 50, 5000100);
  GeodesicMeasurer m(utm);
  EXPECT_NEAR(m.areaM2(p), std::pow(100 / 0.9996, 2), 0.5);
  EXPECT_NEAR(m.perimeterM(p), 400 / 0.9996, 0.05);
}

// measure() goes through lon/lat once; its area and perimeter are areaM2's and perimeterM's up to
// rounding, holes included, in a projected CRS and in lon/lat.
TEST(Geometry, MeasureGivesAreaAndPerimeterAtOnce) {
  Polygon p = rect(600000, 110000, 600300, 110200);
  p.holes.push_back(rect(600100, 110050, 600150, 110090).exterior);
  for (const auto& [crs, poly] : {std::pair{Crs::fromEpsg(32636), p},
                                  std::pair{Crs::wgs84(), rect(30.1, -1.9, 30.1031, -1.8978)}}) {
    GeodesicMeasurer m(crs);
    const GeodesicMeasurer::Measures both = m.measure(poly);
    EXPECT_GT(both.areaM2, 1e4);
    EXPECT_NEAR(both.areaM2, m.areaM2(poly), 1e-9 * both.areaM2) << crs.label();
    EXPECT_NEAR(both.perimeterM, m.perimeterM(poly), 1e-9 * both.perimeterM) << crs.label();
  }
}

// A 1 x 1 degree cell from the equator: closed-form area on the WGS84 ellipsoid.
TEST(Geometry, GeodesicAreaLonLatCellMatchesClosedForm) {
  const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f), e = std::sqrt(e2);
  auto q = [&](double phiDeg) {
    const double s = std::sin(phiDeg * M_PI / 180);
    return s / (1 - e2 * s * s) + std::log((1 + e * s) / (1 - e * s)) / (2 * e);
  };
  const double expected = a * a * (1 - e2) / 2 * (M_PI / 180) * (q(1) - q(0));
  Polygon cell = rect(30, 0, 31, 1);
  EXPECT_NEAR(geodesicAreaM2(cell, Crs::wgs84()) / expected, 1.0, 1e-6);
  // Meridian arc of 1 degree at the equator is 110574 m, equator degree 111319.5 m.
  const double per = geodesicPerimeterM(cell, Crs::wgs84());
  EXPECT_NEAR(per, 2 * 110574.4 + 111319.5 + 111302.6, 5.0);
}

}  // namespace
}  // namespace fieldseg
