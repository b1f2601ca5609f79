// Tests of GeodesicMeasurer::measure's local model (src/io/geometry_geodesic.cpp): on field-like
// polygons it gives areaM2's and perimeterM's numbers (PROJ vertex by vertex) to far below the
// output's rounding, in projected and geographic CRSs, and it steps aside where it does not fit.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"

namespace fieldseg {
namespace {

// A star-shaped ring of `n` vertices around (cx, cy), radii in [r / 2, r] (never self-crossing).
Ring starRing(double cx, double cy, double r, int n, std::mt19937& rng) {
  std::uniform_real_distribution<double> radius(0.5 * r, r);
  Ring ring;
  for (int k = 0; k < n; ++k) {
    const double a = 2 * M_PI * k / n, rr = radius(rng);
    ring.push_back({cx + rr * std::cos(a), cy + rr * std::sin(a)});
  }
  return ring;
}

struct Case {
  Crs crs;
  double cx, cy, size;  // centre and radius in CRS units
  double modelledUpTo;  // radius (m) up to which the model must fit
};

// Fields of 20 m to 2 km across (radius 10 to 1000 m), with and without a hole, in UTM (near
// and far from the central meridian), an equal-area LAEA, polar stereographic and lon/lat.
TEST(GeodesicMeasurer, LocalModelGivesProjsNumbers) {
  const std::vector<Case> cases = {
      {Crs::fromEpsg(32636), 500000, 4000000, 1, 250},
      {Crs::fromEpsg(32636), 790000, 110000, 1, 250},
      {Crs::fromEpsg(32643), 210000, 2500000, 1, 250},
      {Crs::fromEpsg(3035), 4233000, 3187000, 1, 250},  // off the LAEA origin
      // 72 N: EPSG:6933 stretches fast with latitude there, so the model fits smaller fields only.
      {Crs::fromEpsg(3413), -200000, -2000000, 1, 60},
      {Crs::wgs84(), 30.1, -1.9, 1e-5, 250},
      {Crs::wgs84(), 78.4, 17.3, 1e-5, 250},
  };
  std::mt19937 rng(7);
  for (const Case& c : cases) {
    GeodesicMeasurer m(c.crs);
    for (double r : {10.0, 60.0, 250.0, 1000.0}) {
      for (int trial = 0; trial < 6; ++trial) {
        const double rr = r * c.size;
        Polygon p{starRing(c.cx, c.cy, rr, 24 + trial * 17, rng), {}};
        if (trial % 2) p.holes.push_back(starRing(c.cx, c.cy, 0.2 * rr, 30, rng));
        p = oriented(p, true);
        const long long before = m.modelledCount();
        const GeodesicMeasurer::Measures got = m.measure(p);
        // Field-sized polygons are what the model is for: each of them uses it.
        if (r <= c.modelledUpTo) {
          EXPECT_EQ(m.modelledCount(), before + 1) << c.crs.label() << " r=" << r;
        }
        const double area = m.areaM2(p), perimeter = m.perimeterM(p);
        ASSERT_GT(area, 0);
        // The model's vertices agree with PROJ's to about 1e-6 m: the area to 1e-6 m x the
        // perimeter, the perimeter to 1e-6 m per vertex.
        EXPECT_NEAR(got.areaM2, area, 1e-6 * perimeter + 1e-12 * area)
            << c.crs.label() << " r=" << rr;
        EXPECT_NEAR(got.perimeterM, perimeter, 2e-6 * (p.exterior.size() + 30))
            << c.crs.label() << " r=" << rr;
      }
    }
  }
}

// Where the biquadratic model cannot reproduce PROJ (a polygon hundreds of km across) or would
// not pay (few vertices), measure() goes vertex by vertex and gives exactly what it gave before.
TEST(GeodesicMeasurer, FallsBackWhereTheModelDoesNotFit) {
  std::mt19937 rng(11);
  GeodesicMeasurer m(Crs::fromEpsg(32636));
  const Polygon huge{starRing(500000, 1000000, 300000, 64, rng), {}};
  const Polygon square{{{600000, 110000}, {600100, 110000}, {600100, 110100}, {600000, 110100}},
                       {}};
  for (const Polygon& p : {huge, square}) {
    const GeodesicMeasurer::Measures got = m.measure(p);
    EXPECT_NEAR(got.areaM2, m.areaM2(p), 1e-9 * got.areaM2);
    EXPECT_NEAR(got.perimeterM, m.perimeterM(p), 1e-9 * got.perimeterM);
  }
  EXPECT_EQ(m.modelledCount(), 0);
  // A hole outside the exterior's box still lies inside the model's box (all rings count).
  Polygon holed{starRing(600000, 110000, 200, 40, rng), {starRing(610000, 110000, 50, 30, rng)}};
  const GeodesicMeasurer::Measures h = m.measure(holed);
  EXPECT_NEAR(h.areaM2, m.areaM2(holed), 1e-9 * h.areaM2);
  // A UTM zone 60 field across the antimeridian (177E + 3 degrees, about 334 km east of the
  // central meridian): the model's lon/lat nodes jump by 360 degrees and disagree with PROJ, so
  // the field goes vertex by vertex (whose perimeter handles the jump).
  GeodesicMeasurer z60(Crs::fromEpsg(32660));
  const Polygon across{starRing(500000 + 333900, 100000, 3000, 40, rng), {}};
  const GeodesicMeasurer::Measures got = z60.measure(across);
  EXPECT_EQ(z60.modelledCount(), 0);
  EXPECT_NEAR(got.perimeterM, z60.perimeterM(across), 1e-9 * got.perimeterM);
  EXPECT_GT(got.perimeterM, 6000);
  EXPECT_LT(got.perimeterM, 6 * 2 * M_PI * 3000);
}

// A vertex that is not finite is refused as vertex by vertex refuses it (DataError), never
// measured by the model from the other vertices' bounds.
TEST(GeodesicMeasurer, RefusesVerticesThatAreNotFinite) {
  std::mt19937 rng(3);
  GeodesicMeasurer m(Crs::fromEpsg(32636));
  Polygon p{starRing(600000, 110000, 100, 40, rng), {starRing(600000, 110000, 20, 30, rng)}};
  Polygon badExterior = p, badHole = p;
  badExterior.exterior[7].x = std::numeric_limits<double>::quiet_NaN();
  badHole.holes[0][3].y = std::numeric_limits<double>::infinity();
  for (const Polygon& bad : {badExterior, badHole}) {
    EXPECT_THROW(m.areaM2(bad), DataError);
    EXPECT_THROW(m.measure(bad), DataError);
  }
  EXPECT_EQ(m.modelledCount(), 0);
}

}  // namespace
}  // namespace fieldseg
