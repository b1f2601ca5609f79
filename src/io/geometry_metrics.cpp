// Shape on top of OGR geometries (GEOS does the overlays). OGR types stay in this file.
#include "fieldseg/geometry_metrics.hpp"

#include <ogr_api.h>
#include <ogr_geometry.h>

#include <string>
#include <utility>

#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "ogr_polygons.hpp"

namespace fieldseg {

struct Shape::Impl {
  std::unique_ptr<OGRGeometry> geom;  // never null; may be an empty collection
};

namespace {

using GeomPtr = std::unique_ptr<OGRGeometry>;

GeomPtr emptyGeom() { return std::make_unique<OGRGeometryCollection>(); }

// OGR returns nullptr when GEOS fails; evaluation must not silently lose geometry, so say so.
// `errors` holds what GEOS said (through GDAL) while the operation ran.
GeomPtr checked(OGRGeometry* g, const char* op, const io::GdalErrorScope& errors) {
  if (!g) {
    throw DataError(std::string("eval: geometry ") + op +
                    " failed in GEOS: " + io::gdalCause(errors, "no reason given") +
                    ". The inputs are probably degenerate: repair the polygons (e.g. ogr2ogr "
                    "-makevalid) and retry.");
  }
  return GeomPtr(g);
}

using io::collectPolygons;

double areaOfGeom(const OGRGeometry* g) {
  if (!g || g->IsEmpty()) return 0.0;
  switch (wkbFlatten(g->getGeometryType())) {
    case wkbPolygon:
      return g->toPolygon()->get_Area();
    case wkbMultiPolygon:
    case wkbGeometryCollection: {
      const auto* c = g->toGeometryCollection();
      double a = 0;
      for (int i = 0; i < c->getNumGeometries(); ++i) a += areaOfGeom(c->getGeometryRef(i));
      return a;
    }
    default:
      return 0.0;
  }
}

double lengthOfGeom(const OGRGeometry* g) {
  if (!g || g->IsEmpty()) return 0.0;
  switch (wkbFlatten(g->getGeometryType())) {
    case wkbLineString:
    case wkbLinearRing:
      return g->toLineString()->get_Length();
    case wkbPolygon: {
      const auto* p = g->toPolygon();
      double l = 0;
      for (const auto* ring : *p) l += ring->get_Length();
      return l;
    }
    case wkbMultiLineString:
    case wkbMultiPolygon:
    case wkbGeometryCollection: {
      const auto* c = g->toGeometryCollection();
      double l = 0;
      for (int i = 0; i < c->getNumGeometries(); ++i) l += lengthOfGeom(c->getGeometryRef(i));
      return l;
    }
    default:
      return 0.0;
  }
}

bool isPolygonal(const OGRGeometry* g) {
  auto t = wkbFlatten(g->getGeometryType());
  return t == wkbPolygon || t == wkbMultiPolygon;
}

}  // namespace

Shape::Shape() : impl_(std::make_shared<Impl>(Impl{emptyGeom()})) {}
Shape::Shape(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Shape Shape::fromPolygon(const Polygon& polygon, bool* repaired) {
  if (repaired) *repaired = false;
  if (polygon.exterior.size() < 3) return Shape();
  auto poly = io::toOgrPolygon(polygon, io::DegenerateHoles::kDrop);
  io::GdalErrorScope quiet;  // GEOS explains invalid input; nothing to report here
  bool valid = poly->IsValid();
  if (valid) return Shape(std::make_shared<Impl>(Impl{std::move(poly)}));
  if (repaired) *repaired = true;
  GeomPtr fixed(poly->MakeValid());
  auto multi = std::make_unique<OGRMultiPolygon>();
  collectPolygons(fixed.get(), *multi);
  return Shape(std::make_shared<Impl>(Impl{std::move(multi)}));
}

Shape Shape::unionOf(const std::vector<Shape>& shapes) {
  std::vector<const OGRGeometry*> parts;
  const Shape* single = nullptr;
  bool allPolygonal = true;
  for (const auto& s : shapes) {
    const OGRGeometry* g = s.impl_->geom.get();
    if (g->IsEmpty()) continue;
    parts.push_back(g);
    single = &s;
    allPolygonal = allPolygonal && isPolygonal(g);
  }
  if (parts.empty()) return Shape();
  if (parts.size() == 1) return *single;  // immutable storage: sharing it is safe
  if (allPolygonal) {
    OGRMultiPolygon multi;
    for (const auto* g : parts) collectPolygons(g, multi);
    io::GdalErrorScope errors;
    OGRGeometry* u = multi.UnionCascaded();
    return Shape(std::make_shared<Impl>(Impl{checked(u, "union", errors)}));
  }
  // Lines: one overlay of all the linework with one of its own lines nodes every segment against
  // every other in a single pass (MCIndexNoder) and dissolves duplicates; 4x faster than pairwise
  // unions on 1000 fields. Mixed inputs fall back to pairwise unions.
  bool allLinear = true;
  auto lines = std::make_unique<OGRMultiLineString>();
  std::vector<const OGRGeometry*> stack(parts.begin(), parts.end());
  while (!stack.empty() && allLinear) {
    const OGRGeometry* g = stack.back();
    stack.pop_back();
    auto t = wkbFlatten(g->getGeometryType());
    if (t == wkbLineString) {
      lines->addGeometry(g);
    } else if (t == wkbMultiLineString || t == wkbGeometryCollection) {
      const auto* c = g->toGeometryCollection();
      for (int i = 0; i < c->getNumGeometries(); ++i) stack.push_back(c->getGeometryRef(i));
    } else {
      allLinear = false;
    }
  }
  io::GdalErrorScope errors;
  if (allLinear && lines->getNumGeometries() > 0) {
    OGRGeometry* u = lines->Union(lines->getGeometryRef(0));
    return Shape(std::make_shared<Impl>(Impl{checked(u, "union", errors)}));
  }
  std::vector<GeomPtr> level;
  level.reserve(parts.size());
  for (const auto* g : parts) level.emplace_back(g->clone());
  while (level.size() > 1) {
    std::vector<GeomPtr> next;
    next.reserve(level.size() / 2 + 1);
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(checked(level[i]->Union(level[i + 1].get()), "union", errors));
    }
    if (level.size() % 2 == 1) next.push_back(std::move(level.back()));
    level = std::move(next);
  }
  return Shape(std::make_shared<Impl>(Impl{std::move(level[0])}));
}

std::vector<Polygon> Shape::polygons() const {
  std::vector<Polygon> out;
  collectPolygons(impl_->geom.get(), out);
  return out;
}

namespace {

void collectLines(const OGRGeometry* g, std::vector<std::vector<Point>>& out) {
  if (!g || g->IsEmpty()) return;
  switch (wkbFlatten(g->getGeometryType())) {
    case wkbLineString: {
      const auto* l = g->toLineString();
      std::vector<Point> line(l->getNumPoints());
      for (int i = 0; i < l->getNumPoints(); ++i) line[i] = {l->getX(i), l->getY(i)};
      out.push_back(std::move(line));
      return;
    }
    case wkbMultiLineString:
    case wkbGeometryCollection: {
      const auto* c = g->toGeometryCollection();
      for (int i = 0; i < c->getNumGeometries(); ++i) collectLines(c->getGeometryRef(i), out);
      return;
    }
    default:
      return;
  }
}

}  // namespace

std::vector<std::vector<Point>> Shape::lineStrings() const {
  std::vector<std::vector<Point>> out;
  collectLines(impl_->geom.get(), out);
  return out;
}

bool Shape::empty() const { return impl_->geom->IsEmpty(); }
double Shape::area() const { return areaOfGeom(impl_->geom.get()); }
double Shape::length() const { return lengthOfGeom(impl_->geom.get()); }

WorldBox Shape::bounds() const {
  WorldBox b;
  if (empty()) return b;
  OGREnvelope env;
  impl_->geom->getEnvelope(&env);
  b.minX = env.MinX;
  b.minY = env.MinY;
  b.maxX = env.MaxX;
  b.maxY = env.MaxY;
  return b;
}

Shape Shape::intersection(const Shape& other) const {
  if (empty() || other.empty()) return Shape();
  io::GdalErrorScope errors;
  OGRGeometry* g = impl_->geom->Intersection(other.impl_->geom.get());
  return Shape(std::make_shared<Impl>(Impl{checked(g, "intersection", errors)}));
}

bool Shape::intersects(const Shape& other) const {
  if (empty() || other.empty()) return false;
  return impl_->geom->Intersects(other.impl_->geom.get());
}

Shape Shape::buffer(double distance, int quadSegs) const {
  if (empty()) return Shape();
  io::GdalErrorScope errors;
  OGRGeometry* g = impl_->geom->Buffer(distance, quadSegs);
  return Shape(std::make_shared<Impl>(Impl{checked(g, "buffer", errors)}));
}

Shape Shape::boundary() const {
  if (empty()) return Shape();
  io::GdalErrorScope errors;
  OGRGeometry* g = impl_->geom->Boundary();
  return Shape(std::make_shared<Impl>(Impl{checked(g, "boundary", errors)}));
}

Point Shape::pointOnSurface() const {
  if (empty()) {
    throw DataError(
        "eval: point on surface of an empty geometry: nothing to locate. Drop empty "
        "polygons first.");
  }
  io::GdalErrorScope errors;
  OGRGeometryH h = OGR_G_PointOnSurface(OGRGeometry::ToHandle(impl_->geom.get()));
  GeomPtr g(OGRGeometry::FromHandle(h));
  if (!g || g->IsEmpty() || wkbFlatten(g->getGeometryType()) != wkbPoint) {
    throw DataError("eval: point on surface failed: the geometry is not polygonal. Pass polygons.");
  }
  const OGRPoint& pt = *g->toPoint();
  return {pt.getX(), pt.getY()};
}

bool Shape::covers(Point p) const {
  if (empty()) return false;
  OGRPoint pt(p.x, p.y);
  return impl_->geom->Intersects(&pt);
}

std::vector<Shape> Shape::parts() const {
  std::vector<Shape> out;
  if (empty()) return out;
  const OGRGeometry* g = impl_->geom.get();
  auto t = wkbFlatten(g->getGeometryType());
  if (t != wkbMultiLineString && t != wkbMultiPolygon && t != wkbGeometryCollection &&
      t != wkbMultiPoint) {
    out.push_back(*this);
    return out;
  }
  const auto* c = g->toGeometryCollection();
  for (int i = 0; i < c->getNumGeometries(); ++i) {
    Shape s(std::make_shared<Impl>(Impl{GeomPtr(c->getGeometryRef(i)->clone())}));
    for (auto& p : s.parts()) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace fieldseg
