#include "field_builder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "fieldseg/error.hpp"
#include "trace_outlines.hpp"

namespace fieldseg::post {

namespace {

double round4(double v) { return std::round(v * 1e4) / 1e4; }

// Whether no vertex of the polygon's rings (pixel corners) occurs twice, in one ring or across
// rings. A polygon traced along pixel edges with that property is valid: its rings are simple and
// pairwise disjoint (rings made of pixel edges can only meet at a shared corner), the polygonizer
// nested the holes in the exterior, and the pixels of one 4-connected part have a connected
// interior. Only polygons that fail it (rings touching at a corner) need GEOS's validity test.
bool ringsShareNoVertex(const Polygon& p) {
  // Pixel corners are integers: each packed in one 64-bit key, which sort faster than pairs of
  // doubles. A coordinate that is not an integer within 32 bits answers "shared" (GEOS decides).
  std::vector<std::uint64_t> v;
  size_t total = p.exterior.size();
  for (const auto& h : p.holes) total += h.size();
  v.reserve(total);
  constexpr double kLimit = 2147483647.0;
  bool packed = true;
  auto add = [&](const Ring& r) {
    size_t n = r.size();
    if (n > 1 && r.front().x == r.back().x && r.front().y == r.back().y) --n;  // closing point
    for (size_t i = 0; i < n; ++i) {
      const double x = r[i].x, y = r[i].y;
      packed = packed && std::abs(x) <= kLimit && std::abs(y) <= kLimit && x == std::floor(x) &&
               y == std::floor(y);
      if (!packed) return;
      v.push_back(
          static_cast<std::uint64_t>(static_cast<std::uint32_t>(static_cast<std::int32_t>(y)))
              << 32 |
          static_cast<std::uint32_t>(static_cast<std::int32_t>(x)));
    }
  };
  add(p.exterior);
  for (const auto& h : p.holes) add(h);
  if (!packed) return false;
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) == v.end();
}

// Pixel-corner ring (global pixel coordinates, y down) -> world ring.
Ring toWorld(const Ring& r, const GridSpec& grid) {
  Ring out;
  out.reserve(r.size());
  for (const auto& p : r) out.push_back(grid.pixelToWorld(p.x, p.y));
  return out;
}

}  // namespace

FieldBuilder::FieldBuilder(const GridSpec& grid, const BuildParams& params)
    : grid_(grid), params_(params), measurer_(grid.crs()), gsdM_(grid.gsdMeters()) {
  if (!(gsdM_ > 0)) gsdM_ = 1;
}

std::optional<BuiltField> FieldBuilder::build(const std::vector<const Piece*>& pieces) const {
  if (pieces.empty()) return std::nullopt;
  std::int64_t minRow = std::numeric_limits<std::int64_t>::max(), maxRow = -1;
  std::int64_t minCol = std::numeric_limits<std::int64_t>::max(), maxCol = -1;
  Piece total;
  total.firstPixel = std::numeric_limits<std::int64_t>::max();
  for (const Piece* p : pieces) {
    for (const auto& run : p->runs) {
      minRow = std::min(minRow, run.row);
      maxRow = std::max(maxRow, run.row);
      minCol = std::min<std::int64_t>(minCol, run.c0);
      maxCol = std::max<std::int64_t>(maxCol, run.c1 - 1);
    }
    total.firstPixel = std::min(total.firstPixel, p->firstPixel);
    total.pixels += p->pixels;
    total.sumExtent += p->sumExtent;
    total.edgePixels += p->edgePixels;
    total.sumEdgeBoundary += p->sumEdgeBoundary;
  }
  if (maxRow < 0) return std::nullopt;
  // Mask of the instance's bounding box with a one-pixel empty frame.
  const int rows = static_cast<int>(maxRow - minRow + 3);
  const int cols = static_cast<int>(maxCol - minCol + 3);
  std::vector<std::uint8_t> mask(static_cast<size_t>(rows) * cols, 0);
  for (const Piece* p : pieces)
    for (const auto& run : p->runs) {
      std::uint8_t* row = mask.data() + static_cast<size_t>(run.row - minRow + 1) * cols;
      std::fill(row + (run.c0 - minCol + 1), row + (run.c1 - minCol + 1), std::uint8_t{1});
    }
  std::vector<Polygon> parts = traceOutlines(mask.data(), rows, cols, minCol - 1, minRow - 1);
  if (parts.empty()) return std::nullopt;
  // Keep the largest 4-connected part (ties: the one whose first vertex comes first).
  auto before = [](const Polygon& a, const Polygon& b) {
    const double aa = areaOf(a), ab = areaOf(b);
    if (aa != ab) return aa > ab;
    if (a.exterior[0].y != b.exterior[0].y) return a.exterior[0].y < b.exterior[0].y;
    return a.exterior[0].x < b.exterior[0].x;
  };
  size_t best = 0;
  for (size_t i = 1; i < parts.size(); ++i)
    if (before(parts[i], parts[best])) best = i;
  Polygon pixelPoly = std::move(parts[best]);
  // Simplify in pixel units (the pixel grid is where the outline is exact); holes that vanish are
  // dropped by GEOS.
  const bool simplified = params_.simplifyM > 0;
  if (simplified) pixelPoly = simplifyPreserveTopology(pixelPoly, params_.simplifyM / gsdM_);
  const bool knownValid =
      !simplified && pixelPoly.exterior.size() >= 4 && ringsShareNoVertex(pixelPoly);
  Polygon world;
  world.exterior = toWorld(pixelPoly.exterior, grid_);
  for (const auto& h : pixelPoly.holes)
    if (h.size() >= 3) world.holes.push_back(toWorld(h, grid_));
  world = oriented(world, true);
  if (!knownValid && !isValid(world)) {
    auto fixed = makeValid(world);
    if (fixed.empty()) return std::nullopt;
    size_t bi = 0;
    for (size_t i = 1; i < fixed.size(); ++i)
      if (areaOf(fixed[i]) > areaOf(fixed[bi])) bi = i;
    world = oriented(fixed[bi], true);
  }
  const GeodesicMeasurer::Measures measures = measurer_.measure(world);
  const double areaM2 = measures.areaM2;
  if (areaM2 < params_.minAreaM2 || world.exterior.size() < 3) {
    ++droppedSmall_;
    return std::nullopt;
  }
  BuiltField out;
  out.firstPixel = total.firstPixel;
  out.minRow = minRow;
  out.minCol = minCol;
  out.maxRow = maxRow;
  out.maxCol = maxCol;
  out.field.polygon = std::move(world);
  auto& a = out.field.attrs;
  a["area"] = round4(areaM2 / 1e4);
  a["perimeter"] = std::round(measures.perimeterM * 100) / 100;
  a["confidence"] = round4(total.pixels ? total.sumExtent / (255.0 * total.pixels) : 0.0);
  a["boundary_strength"] =
      round4(total.edgePixels ? total.sumEdgeBoundary / (255.0 * total.edgePixels) : 0.0);
  return out;
}

}  // namespace fieldseg::post
