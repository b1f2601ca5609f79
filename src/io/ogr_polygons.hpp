// Conversions between fieldseg polygons and OGR polygons, and the polygonal parts of any OGR
// geometry (internal header; other src/io files may use it, nothing outside src/io includes it).
//
// Ownership: toOgrRing returns a new ring the caller owns (usually handed straight to
// OGRPolygon::addRingDirectly); everything else returns values or appends to the caller's
// containers. Thread safety: stateless functions, safe to call from any thread.
#pragma once

#include <ogr_geometry.h>

#include <memory>
#include <vector>

#include "fieldseg/fields.hpp"

namespace fieldseg::io {

/// An explicitly closed OGR ring (first point repeated) from an implicitly closed Ring.
OGRLinearRing* toOgrRing(const Ring& ring);

/// Whether toOgrPolygon keeps holes with fewer than 3 points (they make the polygon invalid).
enum class DegenerateHoles { kKeep, kDrop };

/// An OGR polygon with the exterior and the holes of `polygon`.
std::unique_ptr<OGRPolygon> toOgrPolygon(const Polygon& polygon, DegenerateHoles holes);

/// A Ring from an OGR ring, without the repeated closing point; empty for nullptr.
Ring fromOgrRing(const OGRLinearRing* ring);

/// A Polygon from an OGR polygon; holes with fewer than 3 points are dropped.
Polygon fromOgrPolygon(const OGRPolygon& polygon);

/// Appends every polygon of `g` (Polygon, MultiPolygon, GeometryCollection, recursively) whose
/// exterior has at least 3 points to `out`; points and lines (e.g. from MakeValid or an
/// intersection) are skipped. Null and empty geometries add nothing.
void collectPolygons(const OGRGeometry* g, std::vector<Polygon>& out);

/// The same parts as clones added to an OGR multipolygon (no ring-size filter).
void collectPolygons(const OGRGeometry* g, OGRMultiPolygon& out);

}  // namespace fieldseg::io
