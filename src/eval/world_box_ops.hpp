// Small operations on WorldBox (axis-aligned boxes in the metric CRS) shared by the tiled metrics.
// Internal to src/eval. A box's crs is carried from the first argument; nothing here converts.
#pragma once

#include <algorithm>

#include "fieldseg/geo.hpp"

namespace fieldseg::eval {

/// `b` grown by `d` on every side.
inline WorldBox grown(const WorldBox& b, double d) {
  WorldBox g = b;
  g.minX -= d, g.minY -= d, g.maxX += d, g.maxY += d;
  return g;
}

/// Whether the closed boxes share a point.
inline bool overlaps(const WorldBox& a, const WorldBox& b) {
  return a.minX <= b.maxX && a.maxX >= b.minX && a.minY <= b.maxY && a.maxY >= b.minY;
}

/// Whether `a` lies within the closed box `b`.
inline bool within(const WorldBox& a, const WorldBox& b) {
  return a.minX >= b.minX && a.maxX <= b.maxX && a.minY >= b.minY && a.maxY <= b.maxY;
}

/// The smallest box holding both.
inline WorldBox unite(const WorldBox& a, const WorldBox& b) {
  WorldBox u = a;
  u.minX = std::min(a.minX, b.minX), u.minY = std::min(a.minY, b.minY);
  u.maxX = std::max(a.maxX, b.maxX), u.maxY = std::max(a.maxY, b.maxY);
  return u;
}

/// `box` cut to `limit` (empty when they do not overlap).
inline WorldBox clampTo(const WorldBox& box, const WorldBox& limit) {
  WorldBox c = box;
  c.minX = std::max(box.minX, limit.minX), c.minY = std::max(box.minY, limit.minY);
  c.maxX = std::min(box.maxX, limit.maxX), c.maxY = std::min(box.maxY, limit.maxY);
  return c;
}

/// The box [x0, x1] x [y0, y1].
inline WorldBox boxOf(double x0, double y0, double x1, double y1) {
  WorldBox b;
  b.minX = x0, b.minY = y0, b.maxX = x1, b.maxY = y1;
  return b;
}

/// The box of the segment a-b.
inline WorldBox boxOf(const Point& a, const Point& b) {
  WorldBox w;
  w.minX = std::min(a.x, b.x), w.maxX = std::max(a.x, b.x);
  w.minY = std::min(a.y, b.y), w.maxY = std::max(a.y, b.y);
  return w;
}

}  // namespace fieldseg::eval
