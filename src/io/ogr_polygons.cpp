// Polygon <-> OGR conversions shared by the geometry, geometry-metrics and rasterize code.
#include "ogr_polygons.hpp"

#include <functional>
#include <utility>

namespace fieldseg::io {
namespace {

void forEachPolygon(const OGRGeometry* g, const std::function<void(const OGRPolygon&)>& visit) {
  if (!g || g->IsEmpty()) return;
  switch (wkbFlatten(g->getGeometryType())) {
    case wkbPolygon:
      visit(*g->toPolygon());
      break;
    case wkbMultiPolygon:
    case wkbGeometryCollection: {
      const auto* c = g->toGeometryCollection();
      for (int i = 0; i < c->getNumGeometries(); ++i) forEachPolygon(c->getGeometryRef(i), visit);
      break;
    }
    default:
      break;  // points and lines are not fields
  }
}

}  // namespace

OGRLinearRing* toOgrRing(const Ring& ring) {
  auto* r = new OGRLinearRing();
  r->setNumPoints(static_cast<int>(ring.size()) + 1, FALSE);
  for (size_t i = 0; i < ring.size(); ++i) r->setPoint(static_cast<int>(i), ring[i].x, ring[i].y);
  if (!ring.empty()) r->setPoint(static_cast<int>(ring.size()), ring[0].x, ring[0].y);
  return r;
}

std::unique_ptr<OGRPolygon> toOgrPolygon(const Polygon& polygon, DegenerateHoles holes) {
  auto poly = std::make_unique<OGRPolygon>();
  poly->addRingDirectly(toOgrRing(polygon.exterior));
  for (const auto& h : polygon.holes) {
    if (holes == DegenerateHoles::kKeep || h.size() >= 3) poly->addRingDirectly(toOgrRing(h));
  }
  return poly;
}

Ring fromOgrRing(const OGRLinearRing* ring) {
  Ring r;
  if (!ring) return r;
  const int n = ring->getNumPoints();
  r.reserve(n);
  for (int i = 0; i < n; ++i) r.push_back({ring->getX(i), ring->getY(i)});
  if (r.size() > 1 && r.front().x == r.back().x && r.front().y == r.back().y) r.pop_back();
  return r;
}

Polygon fromOgrPolygon(const OGRPolygon& polygon) {
  Polygon p;
  p.exterior = fromOgrRing(polygon.getExteriorRing());
  for (int i = 0; i < polygon.getNumInteriorRings(); ++i) {
    Ring h = fromOgrRing(polygon.getInteriorRing(i));
    if (h.size() >= 3) p.holes.push_back(std::move(h));
  }
  return p;
}

void collectPolygons(const OGRGeometry* g, std::vector<Polygon>& out) {
  forEachPolygon(g, [&](const OGRPolygon& poly) {
    Polygon p = fromOgrPolygon(poly);
    if (p.exterior.size() >= 3) out.push_back(std::move(p));
  });
}

void collectPolygons(const OGRGeometry* g, OGRMultiPolygon& out) {
  forEachPolygon(g, [&](const OGRPolygon& poly) { out.addGeometry(&poly); });
}

}  // namespace fieldseg::io
