#include "length_inside.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "world_box_ops.hpp"

namespace fieldseg::eval {
namespace {

constexpr double kOnBoundaryM = 1e-9;

double cross(double ax, double ay, double bx, double by) { return ax * by - ay * bx; }

}  // namespace

int LengthInside::Poly::bandOf(double y) const {
  // Clamped before the conversion: a far-away y must not overflow the int.
  const double k = std::floor((y - box.minY) / bandH);
  return static_cast<int>(std::clamp(k, 0.0, static_cast<double>(bands - 1)));
}

void LengthInside::add(const Polygon& polygon) {
  if (polygon.exterior.size() < 3) return;
  Poly p;
  p.box = boxOf(polygon.exterior.front(), polygon.exterior.front());
  for (const auto& v : polygon.exterior) {
    p.box.minX = std::min(p.box.minX, v.x), p.box.maxX = std::max(p.box.maxX, v.x);
    p.box.minY = std::min(p.box.minY, v.y), p.box.maxY = std::max(p.box.maxY, v.y);
  }
  const double largest = std::max(
      {std::abs(p.box.minX), std::abs(p.box.maxX), std::abs(p.box.minY), std::abs(p.box.maxY)});
  p.onBoundary = std::max(kOnBoundaryM, 4 * std::numeric_limits<double>::epsilon() * largest);
  auto addRing = [&](const Ring& r) {
    if (r.size() < 3) return;
    for (std::size_t i = 0, n = r.size(); i < n; ++i) p.edges.push_back({r[i], r[(i + 1) % n]});
  };
  addRing(polygon.exterior);
  for (const auto& h : polygon.holes) addRing(h);
  // About 8 edges a band, at most 64 bands.
  p.bands = static_cast<int>(std::clamp<std::size_t>(p.edges.size() / 8, 1, 64));
  p.bandH = (p.box.maxY - p.box.minY) / p.bands;
  if (!(p.bandH > 0)) p.bands = 1, p.bandH = 1;
  std::vector<std::vector<std::uint32_t>> byBand(p.bands);
  for (std::size_t i = 0; i < p.edges.size(); ++i) {
    const Edge& e = p.edges[i];
    const int k0 = p.bandOf(std::min(e.s.y, e.e.y) - p.onBoundary);
    const int k1 = p.bandOf(std::max(e.s.y, e.e.y) + p.onBoundary);
    for (int k = k0; k <= k1; ++k) byBand[k].push_back(static_cast<std::uint32_t>(i));
  }
  p.bandStart.push_back(0);
  for (const auto& band : byBand) {
    p.bandEdges.insert(p.bandEdges.end(), band.begin(), band.end());
    p.bandStart.push_back(p.bandEdges.size());
  }
  polys_.push_back(std::move(p));
}

// Closed polygon: a point within the on-edge distance of an edge is covered; otherwise even-odd
// (only the edges of q's band can span q.y).
bool LengthInside::covers(const Poly& p, const Point& q) {
  if (q.y < p.box.minY - p.onBoundary || q.y > p.box.maxY + p.onBoundary) return false;
  const int k = p.bandOf(q.y);
  bool inside = false;
  for (std::size_t j = p.bandStart[k]; j < p.bandStart[k + 1]; ++j) {
    const Point& s = p.edges[p.bandEdges[j]].s;
    const Point& e = p.edges[p.bandEdges[j]].e;
    const double ex = e.x - s.x, ey = e.y - s.y, qx = q.x - s.x, qy = q.y - s.y;
    const double len2 = ex * ex + ey * ey;
    if (len2 > 0) {
      const double t = (qx * ex + qy * ey) / len2;
      if (t >= 0 && t <= 1 && std::abs(cross(ex, ey, qx, qy)) <= p.onBoundary * std::sqrt(len2))
        return true;
    }
    if ((s.y > q.y) != (e.y > q.y)) {
      const double x = s.x + (q.y - s.y) * ex / ey;
      if (q.x < x) inside = !inside;
    }
  }
  return inside;
}

void LengthInside::spans(const Point& a, const Point& b,
                         std::vector<std::pair<double, double>>& out) const {
  out.clear();
  const double rx = b.x - a.x, ry = b.y - a.y;
  const double len = std::hypot(rx, ry);
  if (!(len > 0)) return;
  const WorldBox sb = boxOf(a, b);
  std::vector<std::pair<double, double>>& inside = out;
  std::vector<double> ts;
  for (const Poly& p : polys_) {
    // Grown by the on-edge distance: an edge that far beside the segment still cuts it where it
    // ends (the pieces beyond are not on it).
    const WorldBox near = grown(sb, p.onBoundary);
    if (!overlaps(p.box, near)) continue;
    ts.assign({0.0, 1.0});
    // An edge in several of the bands is met more than once: the same t, removed below.
    const int k0 = p.bandOf(near.minY), k1 = p.bandOf(near.maxY);
    for (std::size_t j = p.bandStart[k0]; j < p.bandStart[k1 + 1]; ++j) {
      const Point& s = p.edges[p.bandEdges[j]].s;
      const Point& e = p.edges[p.bandEdges[j]].e;
      if (!overlaps(boxOf(s, e), near)) continue;
      const double sx = e.x - s.x, sy = e.y - s.y, px = s.x - a.x, py = s.y - a.y;
      const double ds = cross(px, py, rx, ry), de = cross(e.x - a.x, e.y - a.y, rx, ry);
      if (std::abs(ds) <= p.onBoundary * len && std::abs(de) <= p.onBoundary * len) {
        // Along the segment's line (to the on-edge distance, parallel or not): the edge's ends
        // cut it, so only the part beside the edge is judged on it.
        for (const Point& v : {s, e}) {
          const double t = ((v.x - a.x) * rx + (v.y - a.y) * ry) / (len * len);
          if (t > 0 && t < 1) ts.push_back(t);
        }
        continue;
      }
      const double d = cross(rx, ry, sx, sy);
      if (d == 0) continue;  // parallel, apart
      const double t = cross(px, py, sx, sy) / d, u = cross(px, py, rx, ry) / d;
      if (t > 0 && t < 1 && u >= 0 && u <= 1) ts.push_back(t);
    }
    std::sort(ts.begin(), ts.end());
    ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
    bool whole = true;
    for (std::size_t k = 0; k + 1 < ts.size(); ++k) {
      const double m = 0.5 * (ts[k] + ts[k + 1]);
      if (covers(p, {a.x + m * rx, a.y + m * ry})) {
        inside.emplace_back(ts[k], ts[k + 1]);
      } else {
        whole = false;
      }
    }
    if (whole) {  // one polygon holds all of it
      out.assign(1, {0.0, 1.0});
      return;
    }
  }
  if (inside.empty()) return;
  std::sort(inside.begin(), inside.end());
  size_t w = 0;  // merged in place
  for (size_t i = 1; i < inside.size(); ++i) {
    if (inside[i].first > inside[w].second)
      inside[++w] = inside[i];
    else
      inside[w].second = std::max(inside[w].second, inside[i].second);
  }
  inside.resize(w + 1);
}

double LengthInside::segment(const Point& a, const Point& b) const {
  std::vector<std::pair<double, double>> in;
  spans(a, b, in);
  double sum = 0;
  for (const auto& [s, e] : in) sum += e - s;
  return sum * std::hypot(b.x - a.x, b.y - a.y);
}

double LengthInside::polyline(const std::vector<Point>& line) const {
  double l = 0;
  for (std::size_t i = 0; i + 1 < line.size(); ++i) l += segment(line[i], line[i + 1]);
  return l;
}

}  // namespace fieldseg::eval
