#include "fieldseg/geo.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "fieldseg/error.hpp"

using namespace fieldseg;

TEST(Crs, ParsesEpsgAndKeepsCode) {
  Crs c = Crs::fromUserInput("EPSG:32636");
  EXPECT_EQ(c.epsg().value(), 32636);
  EXPECT_FALSE(c.isGeographic());
  EXPECT_EQ(c.label(), "EPSG:32636");
  EXPECT_TRUE(Crs::fromUserInput("4326").isGeographic());
}

TEST(Crs, ParsesProjStringAndRejectsGarbage) {
  Crs c = Crs::fromUserInput("+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs");
  EXPECT_FALSE(c.empty());
  EXPECT_FALSE(c.isGeographic());
  EXPECT_THROW(Crs::fromUserInput("not a crs"), DataError);
}

TEST(Crs, UtmZoneForLonLat) {
  EXPECT_EQ(Crs::utmFor(30.4, -1.9).epsg().value(), 32736);  // Rwanda, south of the equator
  EXPECT_EQ(Crs::utmFor(-93.5, 42.0).epsg().value(), 32615);
}

TEST(CoordTransform, LonLatIsTraditionalAxisOrder) {
  // lon 33 E, lat 0 is the central meridian of UTM 36N: easting 500000.
  CoordTransform t(Crs::wgs84(), Crs::fromEpsg(32636));
  Point p = t.apply(Point{33.0, 0.0});
  EXPECT_NEAR(p.x, 500000.0, 1e-3);
  EXPECT_NEAR(p.y, 0.0, 1e-3);
}

TEST(CoordTransform, RoundTripPixelWorldLonLat) {
  GridSpec g(1000, 800, {300000, 3, 0, 9800000, 0, -3}, Crs::fromEpsg(32736));
  CoordTransform toLl(g.crs(), Crs::wgs84()), back(Crs::wgs84(), g.crs());
  for (double col : {0.0, 0.5, 517.25, 999.0}) {
    for (double row : {0.0, 13.5, 799.0}) {
      Point w = g.pixelToWorld(col, row);
      Point ll = toLl.apply(w);
      EXPECT_GT(ll.x, 25.0);  // lon first
      EXPECT_LT(ll.y, 0.0);   // southern hemisphere lat second
      Point w2 = back.apply(ll);
      Point px = g.worldToPixel(w2.x, w2.y);
      EXPECT_NEAR(px.x, col, 1e-6);
      EXPECT_NEAR(px.y, row, 1e-6);
    }
  }
}

TEST(GridSpec, GsdForProjectedMercatorAndGeographic) {
  GridSpec utm(10, 10, {500000, 10, 0, 0, 0, -10}, Crs::fromEpsg(32633));
  EXPECT_DOUBLE_EQ(utm.gsdMeters(), 10.0);
  // Web Mercator at about 1.5 deg S: ground size = nominal * cos(lat).
  GridSpec merc(256, 256, {3374518.0377, 4.777314267, 0, -168438.5464, 0, -4.777314267},
                Crs::fromEpsg(3857));
  EXPECT_NEAR(merc.gsdMeters(), 4.777314267 * std::cos(1.52 * M_PI / 180), 0.01);
  GridSpec geo(100, 100, {10, 0.0001, 0, 50, 0, -0.0001}, Crs::wgs84());
  EXPECT_NEAR(geo.gsdMeters(), std::sqrt(11.13 * 11.13 * std::cos(50 * M_PI / 180)), 0.1);
}

TEST(GridSpec, WindowBoxRoundTripAndSubGrid) {
  GridSpec g(500, 400, {1000, 2, 0, 5000, 0, -2}, Crs::fromEpsg(32633));
  PixelWindow w{17, 23, 101, 57};
  EXPECT_EQ(g.windowOf(g.boxOf(w)), w);
  GridSpec s = g.subGrid(w);
  Point a = s.pixelToWorld(0, 0), b = g.pixelToWorld(17, 23);
  EXPECT_DOUBLE_EQ(a.x, b.x);
  EXPECT_DOUBLE_EQ(a.y, b.y);
  GridSpec c = g.rescaled(3);
  EXPECT_EQ(c.width(), 167);
  EXPECT_EQ(c.height(), 134);
  EXPECT_DOUBLE_EQ(c.resX(), 6.0);
}

TEST(PixelWindow, Intersect) {
  PixelWindow a{0, 0, 10, 10}, b{5, -3, 10, 5};
  EXPECT_EQ(a.intersect(b), (PixelWindow{5, 0, 5, 2}));
  EXPECT_TRUE(a.intersect(PixelWindow{20, 20, 3, 3}).empty());
}
