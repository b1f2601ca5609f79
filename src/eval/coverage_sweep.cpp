#include "coverage_sweep.hpp"

#include <algorithm>
#include <numeric>

namespace fieldseg::eval {
namespace {

// Twice the signed area (shoelace): > 0 counter-clockwise.
double signedArea2(const Ring& r) {
  double s = 0;
  for (std::size_t i = 0, n = r.size(); i < n; ++i) {
    const Point& a = r[i];
    const Point& b = r[(i + 1) % n];
    s += a.x * b.y - b.x * a.y;
  }
  return s;
}

// Where segment a-b meets the vertical line x = c (a.x, b.x on either side of c). The ends are
// ordered first, so a segment shared by two rings is cut at the same point for both.
Point atX(Point a, Point b, double c) {
  if (b.x < a.x) std::swap(a, b);
  return {c, a.y + (c - a.x) * (b.y - a.y) / (b.x - a.x)};
}
Point atY(Point a, Point b, double c) {
  if (b.y < a.y) std::swap(a, b);
  return {a.x + (c - a.y) * (b.x - a.x) / (b.y - a.y), c};
}

// One Sutherland-Hodgman pass: keep the side of the line where inside(p) holds.
template <class Inside, class Cut>
Ring clipPass(const Ring& in, Inside inside, Cut cut) {
  Ring out;
  out.reserve(in.size() + 4);
  for (std::size_t i = 0, n = in.size(); i < n; ++i) {
    const Point& p = in[i];
    const Point& q = in[(i + 1) % n];
    const bool pIn = inside(p), qIn = inside(q);
    if (pIn) out.push_back(p);
    if (pIn != qIn) out.push_back(cut(p, q));
  }
  return out;
}

// y of edge e at x (the stored ends exactly at its ends, so edges sharing a vertex agree there).
double yAt(double xl, double yl, double xr, double yr, double x) {
  if (x <= xl) return yl;
  if (x >= xr) return yr;
  return yl + (x - xl) * (yr - yl) / (xr - xl);
}

}  // namespace

CoverageSweep::CoverageSweep(const WorldBox& box)
    : x0_(box.minX), y0_(box.minY), w_(box.maxX - box.minX), h_(box.maxY - box.minY) {}

void CoverageSweep::add(int layer, const Polygon& polygon, std::size_t owner) {
  addRing(layer, polygon.exterior, false, owner);
  for (const auto& h : polygon.holes) addRing(layer, h, true, owner);
}

void CoverageSweep::addRing(int layer, const Ring& ring, bool hole, std::size_t owner) {
  if (ring.size() < 3) return;
  Ring r;
  r.reserve(ring.size());
  bool inside = true;
  for (const auto& p : ring) {
    // Exact where the box corner and the point are within a factor 2 (Sterbenz), e.g. UTM.
    const Point q{p.x - x0_, p.y - y0_};
    inside = inside && q.x >= 0 && q.x <= w_ && q.y >= 0 && q.y <= h_;
    r.push_back(q);
  }
  const double a2 = signedArea2(r);
  if (a2 == 0) return;
  // Counter-clockwise exteriors and clockwise holes: the covered side of an edge going right is
  // above it, whatever the ring's stored orientation.
  const int turn = ((a2 > 0) != hole) ? 1 : -1;
  if (!inside) {
    const double w = w_, h = h_;
    r = clipPass(
        r, [](const Point& p) { return p.x >= 0; }, [](Point a, Point b) { return atX(a, b, 0); });
    r = clipPass(
        r, [w](const Point& p) { return p.x <= w; },
        [w](Point a, Point b) { return atX(a, b, w); });
    r = clipPass(
        r, [](const Point& p) { return p.y >= 0; }, [](Point a, Point b) { return atY(a, b, 0); });
    r = clipPass(
        r, [h](const Point& p) { return p.y <= h; },
        [h](Point a, Point b) { return atY(a, b, h); });
  }
  for (std::size_t i = 0, n = r.size(); i < n; ++i) {
    const Point& p = r[i];
    const Point& q = r[(i + 1) % n];
    if (p.x == q.x) continue;  // vertical: no width
    if (p.x < q.x)
      edges_.push_back({p.x, p.y, q.x, q.y, layer, turn, owner});
    else
      edges_.push_back({q.x, q.y, p.x, p.y, layer, -turn, owner});
  }
}

template <class Strip>
void CoverageSweep::sweep(Strip&& strip) const {
  if (edges_.empty()) return;
  std::vector<double> xs;
  xs.reserve(2 * edges_.size());
  for (const auto& e : edges_) xs.push_back(e.xl), xs.push_back(e.xr);
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  std::vector<const Edge*> byLeft(edges_.size());
  for (std::size_t i = 0; i < edges_.size(); ++i) byLeft[i] = &edges_[i];
  std::sort(byLeft.begin(), byLeft.end(),
            [](const Edge* a, const Edge* b) { return a->xl < b->xl; });
  std::vector<const Edge*> active;
  std::size_t next = 0;
  for (std::size_t k = 0; k + 1 < xs.size(); ++k) {
    const double xa = xs[k], xb = xs[k + 1];
    active.erase(
        std::remove_if(active.begin(), active.end(), [xa](const Edge* e) { return e->xr <= xa; }),
        active.end());
    while (next < byLeft.size() && byLeft[next]->xl <= xa) active.push_back(byLeft[next++]);
    if (!active.empty()) slab(xa, xb, active, true, strip);
  }
}

template <class Strip>
void CoverageSweep::slab(double xa, double xb, const std::vector<const Edge*>& active,
                         bool splitCrossings, Strip& strip) const {
  const std::size_t n = active.size();
  std::vector<double> ya(n), yb(n);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Edge& e = *active[i];
    ya[i] = yAt(e.xl, e.yl, e.xr, e.yr, xa);
    yb[i] = yAt(e.xl, e.yl, e.xr, e.yr, xb);
  }
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t i, std::size_t j) { return ya[i] + yb[i] < ya[j] + yb[j]; });
  if (splitCrossings) {
    bool crossed = false;
    for (std::size_t k = 0; k + 1 < n && !crossed; ++k) {
      crossed = ya[order[k + 1]] < ya[order[k]] || yb[order[k + 1]] < yb[order[k]];
    }
    if (crossed) {
      // Two edges swap places inside the slab: cut it at every crossing, then each part has a
      // fixed order (a part's ends may still show rounding-size swaps: no further cuts).
      std::vector<double> cuts{xa, xb};
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
          const double da = ya[i] - ya[j], db = yb[i] - yb[j];
          if ((da < 0 && db > 0) || (da > 0 && db < 0)) {
            const double x = xa + (xb - xa) * (da / (da - db));
            if (x > xa && x < xb) cuts.push_back(x);
          }
        }
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      for (std::size_t c = 0; c + 1 < cuts.size(); ++c)
        slab(cuts[c], cuts[c + 1], active, false, strip);
      return;
    }
  }
  const double half = 0.5 * (xb - xa);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    double area = 0;
    if (k + 1 < n) {
      const std::size_t j = order[k + 1];
      area = half * ((ya[j] - ya[i]) + (yb[j] - yb[i]));
    }
    strip(*active[i], area);
  }
}

CoverageSweep::Areas CoverageSweep::areas(bool insideLayer2) const {
  Areas out;
  std::array<int, kLayers> count{};
  sweep([&](const Edge& e, double area) {
    count[e.layer] += e.sign;
    if (area == 0 || (insideLayer2 && count[2] <= 0)) return;
    const bool a = count[0] > 0, b = count[1] > 0;
    if (a) out.first += area;
    if (b) out.second += area;
    if (a && b) out.both += area;
  });
  return out;
}

namespace {

// Adds `area` to `owner`'s entry (a tile holds few owners: a linear search).
template <class T, class Match>
T& entry(std::vector<T>& v, Match match, T fresh) {
  for (auto& x : v) {
    if (match(x)) return x;
  }
  v.push_back(fresh);
  return v.back();
}

}  // namespace

CoverageSweep::OwnerAreas CoverageSweep::ownerAreas() const {
  OwnerAreas out;
  struct Count {
    std::size_t owner;
    int count;
  };
  std::array<std::vector<Count>, 2> inside;  // owners of layers 0 and 1 covering the strip
  sweep([&](const Edge& e, double area) {
    if (e.layer < 2) {  // layer 2 changes no owner, but the strip above it is still counted
      auto& list = inside[e.layer];
      Count& c = entry(
          list, [&](const Count& x) { return x.owner == e.owner; }, Count{e.owner, 0});
      c.count += e.sign;
      if (c.count == 0) list.erase(list.begin() + (&c - list.data()));
    }
    if (area == 0) return;
    for (int l = 0; l < 2; ++l) {
      auto& owned = l == 0 ? out.first : out.second;
      for (const Count& x : inside[l]) {
        if (x.count <= 0) continue;
        entry(
            owned, [&](const Owned& o) { return o.owner == x.owner; }, Owned{x.owner, 0})
            .area += area;
      }
    }
    for (const Count& t : inside[0]) {
      if (t.count <= 0) continue;
      for (const Count& p : inside[1]) {
        if (p.count <= 0) continue;
        entry(
            out.overlaps,
            [&](const Overlap& o) { return o.first == t.owner && o.second == p.owner; },
            Overlap{t.owner, p.owner, 0})
            .area += area;
      }
    }
  });
  return out;
}

}  // namespace fieldseg::eval
