// Geometry operations on fieldseg::Polygon (rings of points, closed implicitly, holes allowed),
// backed by OGR/GEOS inside src/io/geometry.cpp (GeodesicMeasurer, PROJ through OGR, in
// src/io/geometry_geodesic.cpp). Planar functions work in the polygon's own CRS units; the *M / *M2
// functions measure on the WGS84 ellipsoid whatever the CRS.
//
// Owner: the delineate component. Others may add functions in their own src/io/geometry_<topic>.cpp
// declared in their own header.
//
// Thread safety: the free functions are reentrant (no shared state). GeodesicMeasurer holds PROJ
// transforms: use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg {

// ---- planar (CRS units) -----------------------------------------------------------------------

/// Signed shoelace area of a ring (positive = counter-clockwise in a y-up frame).
double signedRingArea(const Ring& ring);
/// Planar area (exterior minus holes), in CRS units squared.
double areaOf(const Polygon& polygon);
/// Planar perimeter (exterior + holes), in CRS units.
double perimeterOf(const Polygon& polygon);
/// Axis-aligned bounds in CRS units (crs left empty).
WorldBox boundsOf(const Polygon& polygon);
/// Copy with the exterior counter-clockwise and holes clockwise (RFC 7946, y-up frame) when
/// `ccwExterior`, else the opposite. Also drops repeated consecutive points.
Polygon oriented(const Polygon& polygon, bool ccwExterior = true);

/// GEOS validity; when invalid and `reason` is given, GEOS's reason text is stored there.
bool isValid(const Polygon& polygon, std::string* reason = nullptr);
/// Repairs with GEOS MakeValid; keeps polygonal parts only (may return 0..n polygons).
std::vector<Polygon> makeValid(const Polygon& polygon);
/// Topology-preserving Douglas-Peucker (GEOS) with `tolerance` in CRS units. Returns the input
/// unchanged when tolerance <= 0 or when GEOS returns an empty/non-polygonal result.
Polygon simplifyPreserveTopology(const Polygon& polygon, double tolerance);
/// Area of the intersection (CRS units squared); 0 when disjoint.
double intersectionArea(const Polygon& a, const Polygon& b);
/// Intersection over union of two polygons (0 when both are empty).
double iouOf(const Polygon& a, const Polygon& b);
/// Union of polygons, split back into polygons.
std::vector<Polygon> unionOf(const std::vector<Polygon>& polygons);
/// True when the point lies inside the polygon (not in a hole; boundary counts as outside).
bool containsPoint(const Polygon& polygon, Point p);
/// True when `a` intersects `b` (touching counts).
bool intersects(const Polygon& a, const Polygon& b);

// ---- rasters to polygons ------------------------------------------------------------------------

/// Exact pixel-edge outlines (with holes) of the 4-connected regions where mask != 0. `mask` is
/// rows x cols, row-major. Coordinates are pixel-corner positions x = originX + col,
/// y = originY + row (y grows downwards), so they are integers. Rings come back without collinear
/// vertices, each starting at its smallest (y, x) vertex, in the order GDALPolygonize finds them.
std::vector<Polygon> polygonizeMask(const std::uint8_t* mask, int rows, int cols,
                                    long long originX = 0, long long originY = 0);

/// Removes repeated and collinear vertices and rotates the ring to start at its smallest (y, x)
/// vertex: two rings covering the same outline in the same direction become identical.
Ring canonicalRing(const Ring& ring);

// ---- on the ellipsoid (metres) ----------------------------------------------------------------

/// Measures polygons given in any CRS on the WGS84 ellipsoid: area through an equal-area projection
/// (EPSG:6933, exact for area), perimeter as the sum of ellipsoidal segment lengths (local
/// curvature radii, long segments subdivided; error far below a millimetre for field-size edges).
/// Construct once per CRS and thread; construction sets up PROJ transforms (about a millisecond).
class GeodesicMeasurer {
 public:
  explicit GeodesicMeasurer(const Crs& crs);  ///< throws DataError when the CRS is empty/unusable
  ~GeodesicMeasurer();
  GeodesicMeasurer(GeodesicMeasurer&&) noexcept;
  GeodesicMeasurer& operator=(GeodesicMeasurer&&) noexcept;

  double areaM2(const Polygon& polygon) const;
  double perimeterM(const Polygon& polygon) const;
  /// Both at once, the same numbers as areaM2 / perimeterM up to about 1e-6 m a vertex.
  struct Measures {
    double areaM2 = 0, perimeterM = 0;
  };
  /// Polygons of >= 24 finite vertices go through a local model of the projections to lon/lat
  /// and EPSG:6933 (biquadratic over the bounds of all their rings, used when it matches PROJ to
  /// 1e-6 m at four check points; its error elsewhere in the box is within a few % of that);
  /// others, and those the model does not fit, go to lon/lat vertex by vertex and from there to
  /// EPSG:6933, throwing like areaM2 / perimeterM where a vertex cannot be transformed.
  Measures measure(const Polygon& polygon) const;
  /// How many measure() calls used the local model (tests, benchmarks).
  long long modelledCount() const { return modelled_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable long long modelled_ = 0;
};

/// One-off conveniences (build a GeodesicMeasurer each call: prefer the class in loops).
double geodesicAreaM2(const Polygon& polygon, const Crs& crs);
double geodesicPerimeterM(const Polygon& polygon, const Crs& crs);

}  // namespace fieldseg
