// OGR/GEOS-backed geometry operations on fieldseg::Polygon (see include/fieldseg/geometry.hpp).
#include "fieldseg/geometry.hpp"

#include <ogr_geometry.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "ogr_polygons.hpp"

namespace fieldseg {
namespace {

using GeomPtr = std::unique_ptr<OGRGeometry>;

// GEOS complaints about invalid inputs are expected here (callers check results): a
// GdalErrorScope keeps them off stderr.
using QuietErrors = io::GdalErrorScope;

// Holes are kept as they are so that isValid() reports degenerate ones.
std::unique_ptr<OGRPolygon> toOgr(const Polygon& p) {
  return io::toOgrPolygon(p, io::DegenerateHoles::kKeep);
}

using io::collectPolygons;

double ringLength(const Ring& r) {
  double len = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const Point& a = r[i];
    const Point& b = r[(i + 1) % r.size()];
    len += std::hypot(b.x - a.x, b.y - a.y);
  }
  return len;
}

Ring dedup(const Ring& r) {
  Ring out;
  out.reserve(r.size());
  for (const auto& p : r)
    if (out.empty() || out.back().x != p.x || out.back().y != p.y) out.push_back(p);
  while (out.size() > 1 && out.front().x == out.back().x && out.front().y == out.back().y)
    out.pop_back();
  return out;
}

}  // namespace

double signedRingArea(const Ring& ring) {
  const size_t n = ring.size();
  if (n < 3) return 0;
  // Shifted origin keeps precision for large projected coordinates.
  const double ox = ring[0].x, oy = ring[0].y;
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    const Point& a = ring[i];
    const Point& b = ring[(i + 1) % n];
    s += (a.x - ox) * (b.y - oy) - (b.x - ox) * (a.y - oy);
  }
  return 0.5 * s;
}

double areaOf(const Polygon& polygon) {
  double a = std::abs(signedRingArea(polygon.exterior));
  for (const auto& h : polygon.holes) a -= std::abs(signedRingArea(h));
  return std::max(0.0, a);
}

double perimeterOf(const Polygon& polygon) {
  double len = ringLength(polygon.exterior);
  for (const auto& h : polygon.holes) len += ringLength(h);
  return len;
}

WorldBox boundsOf(const Polygon& polygon) {
  WorldBox b;
  b.minX = b.minY = std::numeric_limits<double>::infinity();
  b.maxX = b.maxY = -std::numeric_limits<double>::infinity();
  for (const auto& p : polygon.exterior) {
    b.minX = std::min(b.minX, p.x);
    b.maxX = std::max(b.maxX, p.x);
    b.minY = std::min(b.minY, p.y);
    b.maxY = std::max(b.maxY, p.y);
  }
  if (polygon.exterior.empty()) b = WorldBox{};
  return b;
}

Polygon oriented(const Polygon& polygon, bool ccwExterior) {
  Polygon out;
  out.exterior = dedup(polygon.exterior);
  if ((signedRingArea(out.exterior) > 0) != ccwExterior)
    std::reverse(out.exterior.begin(), out.exterior.end());
  for (const auto& h : polygon.holes) {
    Ring r = dedup(h);
    if ((signedRingArea(r) > 0) == ccwExterior) std::reverse(r.begin(), r.end());
    out.holes.push_back(std::move(r));
  }
  return out;
}

bool isValid(const Polygon& polygon, std::string* reason) {
  if (polygon.exterior.size() < 3) {
    if (reason) *reason = "exterior ring has fewer than 3 points";
    return false;
  }
  auto g = toOgr(polygon);
  QuietErrors quiet;
  if (g->IsValid()) return true;
  if (reason) {
    // OGR does not expose GEOS's reason text in 3.6; give the cheap structural hints we can.
    *reason =
        "GEOS IsValid is false (self-intersection, ring crossing or a hole outside the shell)";
  }
  return false;
}

std::vector<Polygon> makeValid(const Polygon& polygon) {
  std::vector<Polygon> out;
  if (polygon.exterior.size() < 3) return out;
  auto g = toOgr(polygon);
  QuietErrors quiet;
  if (g->IsValid()) {
    out.push_back(polygon);
    return out;
  }
  GeomPtr fixed(g->MakeValid());
  if (!fixed) throw DataError("geometry: MakeValid failed: GDAL was built without GEOS >= 3.8");
  collectPolygons(fixed.get(), out);
  return out;
}

Polygon simplifyPreserveTopology(const Polygon& polygon, double tolerance) {
  if (tolerance <= 0 || polygon.exterior.size() < 4) return polygon;
  auto g = toOgr(polygon);
  QuietErrors quiet;
  GeomPtr s(g->SimplifyPreserveTopology(tolerance));
  std::vector<Polygon> parts;
  collectPolygons(s.get(), parts);
  if (parts.size() != 1) return polygon;
  return parts[0];
}

double intersectionArea(const Polygon& a, const Polygon& b) {
  if (a.exterior.size() < 3 || b.exterior.size() < 3) return 0;
  const WorldBox ba = boundsOf(a), bb = boundsOf(b);
  if (ba.maxX < bb.minX || bb.maxX < ba.minX || ba.maxY < bb.minY || bb.maxY < ba.minY) return 0;
  auto ga = toOgr(a), gb = toOgr(b);
  QuietErrors quiet;
  GeomPtr inter(ga->Intersection(gb.get()));
  if (!inter) {
    // Invalid inputs make GEOS throw; repair and retry once.
    auto fa = makeValid(a), fb = makeValid(b);
    double s = 0;
    for (const auto& pa : fa)
      for (const auto& pb : fb) {
        auto x = toOgr(pa), y = toOgr(pb);
        GeomPtr i(x->Intersection(y.get()));
        std::vector<Polygon> parts;
        collectPolygons(i.get(), parts);
        for (const auto& p : parts) s += areaOf(p);
      }
    return s;
  }
  std::vector<Polygon> parts;
  collectPolygons(inter.get(), parts);
  double s = 0;
  for (const auto& p : parts) s += areaOf(p);
  return s;
}

double iouOf(const Polygon& a, const Polygon& b) {
  const double inter = intersectionArea(a, b);
  const double uni = areaOf(a) + areaOf(b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<Polygon> unionOf(const std::vector<Polygon>& polygons) {
  std::vector<Polygon> out;
  if (polygons.empty()) return out;
  OGRMultiPolygon mp;
  for (const auto& p : polygons)
    if (p.exterior.size() >= 3) mp.addGeometryDirectly(toOgr(p).release());
  QuietErrors quiet;
  GeomPtr u(mp.UnionCascaded());
  if (!u) {
    GeomPtr fixed(mp.MakeValid());
    if (fixed) u.reset(fixed->UnionCascaded());
  }
  if (!u)
    throw DataError("geometry: union of " + std::to_string(polygons.size()) +
                    " polygons failed in GEOS. Repair the inputs with makeValid first.");
  collectPolygons(u.get(), out);
  return out;
}

bool containsPoint(const Polygon& polygon, Point p) {
  auto inRing = [&](const Ring& r) {
    bool in = false;
    for (size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
      if (((r[i].y > p.y) != (r[j].y > p.y)) &&
          (p.x < (r[j].x - r[i].x) * (p.y - r[i].y) / (r[j].y - r[i].y) + r[i].x))
        in = !in;
    }
    return in;
  };
  if (polygon.exterior.size() < 3 || !inRing(polygon.exterior)) return false;
  for (const auto& h : polygon.holes)
    if (h.size() >= 3 && inRing(h)) return false;
  return true;
}

bool intersects(const Polygon& a, const Polygon& b) {
  if (a.exterior.size() < 3 || b.exterior.size() < 3) return false;
  auto ga = toOgr(a), gb = toOgr(b);
  QuietErrors quiet;
  return ga->Intersects(gb.get());
}

}  // namespace fieldseg
