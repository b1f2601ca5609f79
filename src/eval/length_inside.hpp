// LengthInside: the parts of line segments inside the union of a set of polygons (e.g. the
// evaluation region's piece in a tile), segment by segment: each polygon cuts a segment at its edge
// crossings and the pieces whose midpoint it covers (boundary included: the polygons are closed)
// are inside; the inside intervals of all the polygons are merged. No overlay is built, so it costs
// O(edges of the polygons near the segment) per segment instead of one GEOS difference per
// (line, polygon) pair. Exact up to rounding; a point within a few rounding units of a polygon's
// boundary (1e-9 m, or 4 ulps of its largest coordinate where that is more) counts as on it (a
// segment along a buffer's straight side, common on pixel-grid data).
//
// Internal to src/eval. Immutable after add(); const methods may run on several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg::eval {

class LengthInside {
 public:
  /// Adds a closed polygon (exterior and holes, any orientation) to the union.
  void add(const Polygon& polygon);
  bool empty() const { return polys_.empty(); }

  /// The parameters t of a + t (b - a) inside the union of the polygons, as disjoint spans in
  /// increasing order (into `out`, cleared first).
  void spans(const Point& a, const Point& b, std::vector<std::pair<double, double>>& out) const;
  /// Length of the segment a-b inside the union of the polygons.
  double segment(const Point& a, const Point& b) const;
  /// Length of the polyline `line` (open) inside the union.
  double polyline(const std::vector<Point>& line) const;

 private:
  struct Edge {
    Point s, e;
  };
  // A polygon's edges (all rings) in horizontal bands of its box: a segment or a point meets only
  // the edges of the bands its height range spans.
  struct Poly {
    std::vector<Edge> edges;
    std::vector<std::size_t> bandStart;  // edges of band k: bandEdges[bandStart[k] .. k + 1]
    std::vector<std::uint32_t> bandEdges;
    WorldBox box;
    double bandH = 1;
    double onBoundary = 0;  // distance within which a point is on an edge
    int bands = 1;
    int bandOf(double y) const;
  };
  static bool covers(const Poly& p, const Point& q);
  std::vector<Poly> polys_;
};

}  // namespace fieldseg::eval
