// NearSegments: the length of polylines lying within a distance r of a set of segments (closed:
// distance <= r), exactly. The points of a line within r of a segment PQ are those inside its
// capsule (the rectangle along PQ, r either side, and the discs of radius r at P and Q); the
// capsule is convex, so along a line segment AB they form one interval of AB's parameter, found
// from the rectangle's four lines and the discs' quadratics. A segment of a line is near over the
// union of those intervals for every reference segment near it. Used per tile by nearLength
// (tiled_metrics.hpp): no buffer polygons, no overlay. Internal to src/eval.
//
// Coordinates are taken relative to the box's corner (exact enough for UTM-size values over a
// tile). One object per thread: length() builds the cell index on its first call and keeps
// scratch state, so even the const calls must not run concurrently.
#pragma once

#include <cstdint>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg::eval {

class NearSegments {
 public:
  /// Reference segments will be added for lines inside `box` (a tile), within `r` > 0 of it.
  NearSegments(const WorldBox& box, double r);
  /// A reference segment (any orientation; a point when a == b).
  void add(const Point& a, const Point& b);
  bool empty() const { return segs_.empty(); }
  /// The length of the polyline's points within r of some reference segment.
  double length(const std::vector<Point>& line) const;

 private:
  struct Seg {
    double ax, ay, bx, by;
  };
  void index() const;  // bins the segments into cells (once, on the first query)
  double segment(double ax, double ay, double bx, double by) const;
  int cellOf(double v, int n) const;  // the cell (of n) holding coordinate v, clamped

  double x0_, y0_, r_;
  std::vector<Seg> segs_;
  // Cells of side cell_ over the box grown by r; each lists the segments whose grown bounds meet
  // it (CSR: cellStart_[c] .. cellStart_[c + 1] in cellSegs_).
  double cell_ = 0;
  int nx_ = 1, ny_ = 1;
  mutable bool indexed_ = false;
  mutable std::vector<std::uint32_t> cellStart_, cellSegs_;
  mutable std::vector<std::uint32_t> stamp_;  // per segment: the last query that met it
  mutable std::uint32_t query_ = 0;
  mutable std::vector<std::pair<double, double>> spans_;
};

}  // namespace fieldseg::eval
