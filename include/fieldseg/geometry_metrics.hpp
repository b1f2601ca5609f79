// Shape: a planar geometry (polygons, lines, or a mix) for overlay measurements used by evaluation:
// areas and lengths, intersections, unions, buffers and boundary linework. Backed by OGR/GEOS
// inside src/io/geometry_metrics.cpp; no GDAL types cross this header. Coordinates are in the
// caller's CRS units (evaluation uses a metric CRS, so areas are m2 and lengths m).
//
// Owner: the eval component. Shape is an immutable value with shared, reference-counted storage:
// copies are cheap. Thread safety: const operations may run concurrently on different Shapes; the
// same Shape may be read from several threads (no mutation after construction).
#pragma once

#include <memory>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg {

class Shape {
 public:
  Shape();  ///< empty geometry

  /// A polygon. Invalid input (self-intersections, bow-ties) is repaired with GEOS MakeValid,
  /// keeping the polygonal part; `repaired` (when given) tells whether that happened.
  static Shape fromPolygon(const Polygon& polygon, bool* repaired = nullptr);
  /// The union of shapes (polygons dissolve; lines are noded and duplicates merged). Empty input or
  /// all-empty shapes give an empty Shape.
  static Shape unionOf(const std::vector<Shape>& shapes);

  bool empty() const;
  /// Area of the polygonal parts (0 for lines).
  double area() const;
  /// Length of the linear parts plus the perimeters of the polygonal parts.
  double length() const;
  /// Bounds (crs left empty); an empty box for an empty Shape.
  WorldBox bounds() const;

  Shape intersection(const Shape& other) const;
  double intersectionArea(const Shape& other) const { return intersection(other).area(); }
  bool intersects(const Shape& other) const;
  /// Buffer by `distance` (negative shrinks polygons), round caps and joins, `quadSegs` segments
  /// per quarter circle.
  Shape buffer(double distance, int quadSegs = 8) const;
  /// Boundary linework (rings of polygons as lines).
  Shape boundary() const;
  /// A point guaranteed to lie in the shape (GEOS PointOnSurface); throws DataError when empty.
  Point pointOnSurface() const;
  /// True when `p` lies in the shape's interior or on its boundary.
  bool covers(Point p) const;
  /// The elements of a multi-geometry or collection (recursively), or the shape itself.
  std::vector<Shape> parts() const;
  /// The polygonal parts as plain polygons (rings without the repeated closing point; points,
  /// lines and rings of fewer than 3 points left out).
  std::vector<Polygon> polygons() const;
  /// The linear parts (LineStrings, open: first and last point as stored), polygons and points
  /// left out.
  std::vector<std::vector<Point>> lineStrings() const;

 private:
  struct Impl;
  explicit Shape(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace fieldseg
