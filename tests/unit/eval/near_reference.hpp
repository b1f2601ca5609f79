// A brute-force reference for near lengths (near_length.hpp), computed another way: along a line
// segment the distance to a reference segment is convex in the segment's parameter, so the part
// within r is one interval, found here from the nearest point (the segments' crossing, or an end
// of one of them) and bisection for the two crossings of r, against every reference segment
// (no cells, no capsule algebra).
#pragma once

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg::test {

inline double pointSegmentDistance(Point p, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y, dd = dx * dx + dy * dy;
  double t = dd > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / dd : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// Points exactly r away count (closed). Coordinates are taken relative to each line segment's
// start, so a distance of exactly r between UTM-size coordinates is computed exactly.
inline double nearReference(const std::vector<std::vector<Point>>& lines,
                            const std::vector<std::pair<Point, Point>>& segs, double r) {
  double total = 0;
  for (const auto& line : lines)
    for (size_t i = 0; i + 1 < line.size(); ++i) {
      const Point o = line[i];
      const Point a{0, 0}, b{line[i + 1].x - o.x, line[i + 1].y - o.y};
      auto at = [&](double t) { return Point{a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)}; };
      std::vector<std::pair<double, double>> spans;
      for (const auto& [pw, qw] : segs) {
        const Point p{pw.x - o.x, pw.y - o.y}, q{qw.x - o.x, qw.y - o.y};
        auto f = [&](double t) { return pointSegmentDistance(at(t), p, q); };
        // The nearest point of AB to PQ: where they cross, else at an end of AB or where an end
        // of PQ projects onto AB (the distance between two segments that do not cross is
        // reached at an end of one of them).
        const double dx = b.x - a.x, dy = b.y - a.y, dd = dx * dx + dy * dy;
        auto projection = [&](Point v) {
          return std::clamp(((v.x - a.x) * dx + (v.y - a.y) * dy) / dd, 0.0, 1.0);
        };
        std::vector<double> candidates = {0.0, 1.0, projection(p), projection(q)};
        const double ex = q.x - p.x, ey = q.y - p.y, den = dx * ey - dy * ex;
        if (den != 0) {
          const double t = ((p.x - a.x) * ey - (p.y - a.y) * ex) / den;
          const double u = ((p.x - a.x) * dy - (p.y - a.y) * dx) / den;
          if (t >= 0 && t <= 1 && u >= 0 && u <= 1) candidates.push_back(t);
        }
        double tm = 0;
        for (double t : candidates)
          if (f(t) < f(tm)) tm = t;
        if (f(tm) > r) continue;
        auto crossing = [&](double inside, double outside) {  // f(inside) <= r < f(outside)
          if (f(outside) <= r) return outside;
          for (int k = 0; k < 200; ++k) {
            const double mid = 0.5 * (inside + outside);
            (f(mid) <= r ? inside : outside) = mid;
          }
          return inside;
        };
        spans.emplace_back(crossing(tm, 0.0), crossing(tm, 1.0));
      }
      std::sort(spans.begin(), spans.end());
      double covered = 0, end = 0;
      bool open = false;
      double start = 0;
      for (const auto& [lo, hi] : spans) {
        if (!open || lo > end) {
          if (open) covered += end - start;
          start = lo, end = hi, open = true;
        } else {
          end = std::max(end, hi);
        }
      }
      if (open) covered += end - start;
      total += covered * std::hypot(b.x - a.x, b.y - a.y);
    }
  return total;
}

}  // namespace fieldseg::test
