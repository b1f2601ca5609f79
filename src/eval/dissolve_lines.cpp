#include "dissolve_lines.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include "world_box_ops.hpp"

namespace fieldseg::eval {
namespace {

// Adds b to the expansion e (non-overlapping components in increasing magnitude, zeros dropped):
// Shewchuk's GROW-EXPANSION, each step an error-free Two-Sum.
void grow(std::vector<double>& e, double b) {
  double q = b;
  size_t w = 0;
  for (double enow : e) {
    const double x = q + enow;
    const double bv = x - q, av = x - bv;
    const double y = (q - av) + (enow - bv);
    q = x;
    if (y != 0) e[w++] = y;
  }
  e.resize(w);
  if (q != 0) e.push_back(q);
}

// Adds s * p * q exactly (the product as two doubles, the low part by fma).
void addProduct(std::vector<double>& e, double s, double p, double q) {
  const double x = p * q;
  const double y = std::fma(p, q, -x);
  grow(e, s * x);
  grow(e, s * y);
}

// A segment of the linework.
struct Seg {
  Point a, b;
  WorldBox box() const { return boxOf(a, b); }
};

// Where the segment p -> q crosses into the box: parameters [t0, t1] of its part inside (Liang-
// Barsky); false when none of positive length.
bool clipToBox(const Point& p, const Point& q, const WorldBox& box, LineSegment& out) {
  double t0 = 0, t1 = 1;
  const double dx = q.x - p.x, dy = q.y - p.y;
  auto edge = [&](double num, double den) {  // keep den * t <= num
    if (den == 0) return num >= 0;
    const double t = num / den;
    if (den > 0)
      t1 = std::min(t1, t);
    else
      t0 = std::max(t0, t);
    return true;
  };
  if (!edge(box.maxX - p.x, dx) || !edge(p.x - box.minX, -dx) || !edge(box.maxY - p.y, dy) ||
      !edge(p.y - box.minY, -dy) || !(t0 < t1))
    return false;
  out[0] = t0 > 0 ? Point{p.x + t0 * dx, p.y + t0 * dy} : p;
  out[1] = t1 < 1 ? Point{p.x + t1 * dx, p.y + t1 * dy} : q;
  return true;
}

// Union-find over the segments of one tile.
struct Groups {
  std::vector<std::uint32_t> parent;
  explicit Groups(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0u); }
  std::uint32_t find(std::uint32_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  void join(std::uint32_t a, std::uint32_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

// Joins the segments of `idx` that lie on one line and overlap: axis-parallel ones by their
// exact coordinate, the others by exact orientation among those whose boxes overlap.
void joinCollinear(const std::vector<Seg>& segs, const std::vector<std::uint32_t>& idx,
                   Groups& groups) {
  std::map<double, std::uint32_t> vertical, horizontal;  // coordinate -> first local index
  std::vector<std::uint32_t> slanted;
  for (std::uint32_t k = 0; k < idx.size(); ++k) {
    const Seg& s = segs[idx[k]];
    if (s.a.x == s.b.x) {
      auto [it, fresh] = vertical.emplace(s.a.x, k);
      if (!fresh) groups.join(it->second, k);
    } else if (s.a.y == s.b.y) {
      auto [it, fresh] = horizontal.emplace(s.a.y, k);
      if (!fresh) groups.join(it->second, k);
    } else {
      slanted.push_back(k);
    }
  }
  std::sort(slanted.begin(), slanted.end(), [&](std::uint32_t p, std::uint32_t q) {
    return std::min(segs[idx[p]].a.x, segs[idx[p]].b.x) <
           std::min(segs[idx[q]].a.x, segs[idx[q]].b.x);
  });
  for (size_t i = 0; i < slanted.size(); ++i) {
    const Seg& s = segs[idx[slanted[i]]];
    const WorldBox sb = s.box();
    for (size_t j = i + 1; j < slanted.size(); ++j) {
      const Seg& o = segs[idx[slanted[j]]];
      const WorldBox ob = o.box();
      if (ob.minX > sb.maxX) break;
      if (!overlaps(sb, ob)) continue;
      if (orientation(s.a, s.b, o.a) == 0 && orientation(s.a, s.b, o.b) == 0)
        groups.join(slanted[i], slanted[j]);
    }
  }
}

// One group of collinear segments as the disjoint pieces of their union (each piece from the
// lowest to the highest of its segments' ends along the line's main axis).
void unite(const std::vector<Seg>& segs, const std::vector<std::uint32_t>& members,
           std::vector<LineSegment>& out) {
  if (members.size() == 1) {
    out.push_back({segs[members[0]].a, segs[members[0]].b});
    return;
  }
  const Seg& first = segs[members[0]];
  const bool alongX = std::abs(first.b.x - first.a.x) >= std::abs(first.b.y - first.a.y);
  auto key = [alongX](const Point& p) { return alongX ? p.x : p.y; };
  std::vector<LineSegment> spans;
  for (std::uint32_t m : members) {
    const Seg& s = segs[m];
    spans.push_back(key(s.a) <= key(s.b) ? LineSegment{s.a, s.b} : LineSegment{s.b, s.a});
  }
  std::sort(spans.begin(), spans.end(),
            [&](const LineSegment& p, const LineSegment& q) { return key(p[0]) < key(q[0]); });
  LineSegment cur = spans[0];
  for (size_t i = 1; i < spans.size(); ++i) {
    if (key(spans[i][0]) <= key(cur[1])) {
      if (key(spans[i][1]) > key(cur[1])) cur[1] = spans[i][1];
    } else {
      out.push_back(cur);
      cur = spans[i];
    }
  }
  out.push_back(cur);
}

}  // namespace

int orientation(const Point& a, const Point& b, const Point& c) {
  const double detLeft = (a.x - c.x) * (b.y - c.y), detRight = (a.y - c.y) * (b.x - c.x);
  const double det = detLeft - detRight;
  // Shewchuk's bound for the floating-point determinant (orient2d, "A" stage).
  const double bound = 3.3306690738754716e-16 * (std::abs(detLeft) + std::abs(detRight));
  if (det > bound) return 1;
  if (-det > bound) return -1;
  // ax by - ax cy - cx by - ay bx + ay cx + cy bx, summed exactly.
  std::vector<double> e;
  e.reserve(24);
  addProduct(e, 1, a.x, b.y);
  addProduct(e, -1, a.x, c.y);
  addProduct(e, -1, c.x, b.y);
  addProduct(e, -1, a.y, b.x);
  addProduct(e, 1, a.y, c.x);
  addProduct(e, 1, c.y, b.x);
  if (e.empty()) return 0;
  return e.back() > 0 ? 1 : -1;
}

std::vector<std::vector<LineSegment>> dissolvedSegmentsByTile(const TileGrid& grid,
                                                              const std::vector<Shape>& linework,
                                                              int threads,
                                                              const ProgressFn& progress) {
  std::vector<Seg> segs;
  for (const auto& l : linework)
    for (const auto& line : l.lineStrings())
      for (size_t k = 0; k + 1 < line.size(); ++k)
        if (line[k].x != line[k + 1].x || line[k].y != line[k + 1].y)
          segs.push_back({line[k], line[k + 1]});
  std::vector<std::vector<std::uint32_t>> byTile(grid.count());
  for (std::uint32_t k = 0; k < segs.size(); ++k) {
    const TileRange r = grid.rangeOf(segs[k].box(), 0);
    for (int y = r.y0; y <= r.y1; ++y)
      for (int x = r.x0; x <= r.x1; ++x) byTile[grid.index(x, y)].push_back(k);
  }
  std::vector<std::vector<LineSegment>> out(grid.count());
  const bool oneTile = grid.count() == 1;  // its tile is unbounded: nothing to cut
  parallelFor(
      grid.count(), threads,
      [&](std::size_t t) {
        const std::vector<std::uint32_t> idx = std::move(byTile[t]);
        if (idx.empty()) return;
        Groups groups(idx.size());
        joinCollinear(segs, idx, groups);
        std::vector<std::vector<std::uint32_t>> members(idx.size());
        for (std::uint32_t k = 0; k < idx.size(); ++k) members[groups.find(k)].push_back(idx[k]);
        std::vector<LineSegment> united;
        for (const auto& m : members)
          if (!m.empty()) unite(segs, m, united);
        const int x = static_cast<int>(t % grid.nx()), y = static_cast<int>(t / grid.nx());
        const WorldBox box = grid.boxOf({x, y, x, y}, 0);
        for (const auto& s : united) {
          LineSegment piece = s;
          if (oneTile || clipToBox(s[0], s[1], box, piece)) out[t].push_back(piece);
        }
      },
      progress);
  return out;
}

}  // namespace fieldseg::eval
