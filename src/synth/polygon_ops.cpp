// Planar helpers (polygon_ops.hpp) and the convex shapes, pixel runs and outlines of layout.hpp.
#include "polygon_ops.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace fieldseg::synth {

double signedArea(const Poly& p) {
  double a = 0;
  for (size_t i = 0, n = p.size(); i < n; ++i) {
    const V2& u = p[i];
    const V2& v = p[(i + 1) % n];
    a += u.x * v.y - v.x * u.y;
  }
  return 0.5 * a;
}

Poly clipHalf(const Poly& in, double nx, double ny, double c) {
  Poly out;
  const size_t n = in.size();
  for (size_t i = 0; i < n; ++i) {
    const V2& p = in[i];
    const V2& q = in[(i + 1) % n];
    const double dp = nx * p.x + ny * p.y - c, dq = nx * q.x + ny * q.y - c;
    if (dp <= 0) out.push_back(p);
    if ((dp < 0 && dq > 0) || (dp > 0 && dq < 0)) {
      const double t = dp / (dp - dq);
      out.push_back({p.x + t * (q.x - p.x), p.y + t * (q.y - p.y)});
    }
  }
  if (out.size() < 3 || std::abs(signedArea(out)) < 1e-9) out.clear();
  return out;
}

Poly clipToScene(Poly p, double w, double h) {
  p = clipHalf(p, -1, 0, 0);
  if (!p.empty()) p = clipHalf(p, 1, 0, w);
  if (!p.empty()) p = clipHalf(p, 0, -1, 0);
  if (!p.empty()) p = clipHalf(p, 0, 1, h);
  return p;
}

void extent(const Poly& p, double dx, double dy, double& lo, double& hi) {
  lo = 1e300;
  hi = -1e300;
  for (const V2& v : p) {
    const double t = v.x * dx + v.y * dy;
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  }
}

double splitPoly(const Poly& p, double nx, double ny, double f, double gap, Poly& a, Poly& b) {
  double lo, hi;
  extent(p, nx, ny, lo, hi);
  const double c = lo + f * (hi - lo);
  a = clipHalf(p, nx, ny, c - 0.5 * gap);
  b = clipHalf(p, -nx, -ny, -(c + 0.5 * gap));
  return c;
}

bool chord(const Poly& p, double nx, double ny, double c, V2& a, V2& b) {
  std::vector<V2> hits;
  for (size_t i = 0, n = p.size(); i < n; ++i) {
    const V2& u = p[i];
    const V2& v = p[(i + 1) % n];
    const double du = nx * u.x + ny * u.y - c, dv = nx * v.x + ny * v.y - c;
    if ((du <= 0 && dv > 0) || (du > 0 && dv <= 0)) {
      const double t = du / (du - dv);
      hits.push_back({u.x + t * (v.x - u.x), u.y + t * (v.y - u.y)});
    }
  }
  if (hits.size() < 2) return false;
  a = hits[0];
  b = hits[1];
  return true;
}

V2 rotate(V2 d, double angle) {
  const double c = std::cos(angle), s = std::sin(angle);
  return {c * d.x - s * d.y, s * d.x + c * d.y};
}

ConvexShape::ConvexShape(Poly p) : poly(std::move(p)) {
  if (poly.empty()) return;
  const double sa = signedArea(poly);
  minX = minY = 1e300;
  maxX = maxY = -1e300;
  for (size_t i = 0, n = poly.size(); i < n; ++i) {
    const V2& a = poly[i];
    const V2& b = poly[(i + 1) % n];
    minX = std::min(minX, a.x);
    maxX = std::max(maxX, a.x);
    minY = std::min(minY, a.y);
    maxY = std::max(maxY, a.y);
    const double dx = b.x - a.x, dy = b.y - a.y, len = std::hypot(dx, dy);
    if (len < 1e-12) continue;
    double nx = dy / len, ny = -dx / len;
    if (sa < 0) {
      nx = -nx;
      ny = -ny;
    }
    edges.push_back({nx, ny, nx * a.x + ny * a.y});
  }
}

bool ConvexShape::span(double y, double& xl, double& xr) const {
  bool found = false;
  xl = 1e300;
  xr = -1e300;
  for (size_t i = 0, n = poly.size(); i < n; ++i) {
    const V2& p = poly[i];
    const V2& q = poly[(i + 1) % n];
    if ((p.y <= y && y <= q.y) || (q.y <= y && y <= p.y)) {
      if (p.y == q.y) {
        xl = std::min({xl, p.x, q.x});
        xr = std::max({xr, p.x, q.x});
      } else {
        const double x = p.x + (y - p.y) * (q.x - p.x) / (q.y - p.y);
        xl = std::min(xl, x);
        xr = std::max(xr, x);
      }
      found = true;
    }
  }
  return found;
}

double ConvexShape::insideDistance(double x, double y) const {
  double d = 1e300;
  for (const Edge& e : edges) d = std::min(d, e.c - (e.nx * x + e.ny * y));
  return d;
}

double ConvexShape::area() const { return std::abs(signedArea(poly)); }

bool shapeRun(const ConvexShape& s, int row, int width, int& c0, int& c1) {
  double xl, xr;
  if (!s.span(row + 0.5, xl, xr)) return false;
  // Pixel c belongs when its centre c + 0.5 lies in [xl, xr].
  c0 = std::max(0, static_cast<int>(std::ceil(xl - 0.5)));
  c1 = std::min(width, static_cast<int>(std::floor(xr - 0.5)) + 1);
  return c1 > c0;
}

bool parcelRun(const Parcel& p, int row, int width, int& c0, int& c1) {
  if (row < p.rowStart || row > p.rowEnd) return false;
  return shapeRun(p.shape, row, width, c0, c1);
}

Poly parcelOutline(const Parcel& p, int width) {
  Poly pts;
  std::vector<std::pair<int, int>> runs;
  for (int r = p.rowStart; r <= p.rowEnd; ++r) {
    int c0 = 0, c1 = 0;
    parcelRun(p, r, width, c0, c1);
    runs.emplace_back(c0, c1);
  }
  if (runs.empty()) return pts;
  const int n = static_cast<int>(runs.size());
  for (int i = 0; i < n; ++i) {  // right side, top to bottom
    pts.push_back({static_cast<double>(runs[i].second), static_cast<double>(p.rowStart + i)});
    pts.push_back({static_cast<double>(runs[i].second), static_cast<double>(p.rowStart + i + 1)});
  }
  for (int i = n - 1; i >= 0; --i) {  // left side, bottom to top
    pts.push_back({static_cast<double>(runs[i].first), static_cast<double>(p.rowStart + i + 1)});
    pts.push_back({static_cast<double>(runs[i].first), static_cast<double>(p.rowStart + i)});
  }
  // Drop repeated and collinear points (all coordinates are integers: the tests are exact).
  Poly clean;
  for (const V2& q : pts)
    if (clean.empty() || q.x != clean.back().x || q.y != clean.back().y) clean.push_back(q);
  while (clean.size() > 1 && clean.front().x == clean.back().x && clean.front().y == clean.back().y)
    clean.pop_back();
  bool changed = true;
  while (changed && clean.size() > 3) {
    changed = false;
    Poly next;
    const size_t m = clean.size();
    for (size_t i = 0; i < m; ++i) {
      const V2& a = clean[(i + m - 1) % m];
      const V2& b = clean[i];
      const V2& c = clean[(i + 1) % m];
      const double cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
      if (cross == 0) {
        changed = true;
        continue;
      }
      next.push_back(b);
    }
    clean.swap(next);
  }
  return clean;
}

}  // namespace fieldseg::synth
