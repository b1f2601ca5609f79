#include "tile_grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "parallel_for.hpp"
#include "world_box_ops.hpp"

namespace fieldseg::eval {
namespace {

// Fractions of a tile by which the origin is moved before the first edge; the first that keeps
// every avoided coordinate off the edges wins (golden-ratio steps spread the tries).
constexpr double kOriginShifts[] = {0.5,          0.3819660113, 0.6180339887, 0.2360679775,
                                    0.7639320225, 0.1458980338, 0.8541019662, 0.0901699437};
constexpr double kEdgeClearanceM = 1e-6;

bool clearOfEdges(const std::vector<double>& values, double origin, double side) {
  for (double v : values) {
    const double t = (v - origin) / side;
    if (std::abs(t - std::round(t)) * side < kEdgeClearanceM) return false;
  }
  return true;
}

Shape boxShape(const WorldBox& b) {
  return Shape::fromPolygon(
      Polygon{{{b.minX, b.minY}, {b.maxX, b.minY}, {b.maxX, b.maxY}, {b.minX, b.maxY}}, {}});
}

}  // namespace

// A clip of a polygon (line) can also hold points or lines (points) where the shape touches the
// box edge; only parts of the input's own dimension are pieces of it.
Shape clipToBox(const Shape& s, const WorldBox& box, bool polygonal) {
  Shape c = s.intersection(boxShape(box));
  if (c.empty()) return c;
  std::vector<Shape> parts = c.parts();
  std::vector<Shape> keep;
  keep.reserve(parts.size());
  for (auto& p : parts) {
    if (polygonal ? p.area() > 0 : p.area() == 0 && p.length() > 0) keep.push_back(std::move(p));
  }
  if (keep.size() == parts.size()) return c;
  return Shape::unionOf(keep);
}

namespace {

// Prefix sums of `wanted`, so "is any tile of this block wanted" costs four lookups.
class WantedTiles {
 public:
  WantedTiles(const TileGrid& g, const std::vector<char>& wanted) : nx_(g.nx()) {
    if (wanted.empty()) return;
    sums_.assign(static_cast<std::size_t>(g.nx() + 1) * (g.ny() + 1), 0);
    for (int y = 0; y < g.ny(); ++y) {
      for (int x = 0; x < g.nx(); ++x) {
        at(x + 1, y + 1) = at(x, y + 1) + at(x + 1, y) - at(x, y) + (wanted[g.index(x, y)] ? 1 : 0);
      }
    }
  }
  bool any(const TileRange& r) const {
    if (r.empty()) return false;
    if (sums_.empty()) return true;
    return at(r.x1 + 1, r.y1 + 1) - at(r.x0, r.y1 + 1) - at(r.x1 + 1, r.y0) + at(r.x0, r.y0) > 0;
  }

 private:
  int nx_;
  std::vector<long> sums_;
  long& at(int x, int y) { return sums_[static_cast<std::size_t>(y) * (nx_ + 1) + x]; }
  long at(int x, int y) const { return sums_[static_cast<std::size_t>(y) * (nx_ + 1) + x]; }
};

TileRange intersect(const TileRange& a, const TileRange& b) {
  return {std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
}

struct Cutter {
  const TileGrid& grid;
  const WantedTiles& wanted;
  double margin;
  bool polygonal;
  std::vector<std::pair<std::size_t, TilePiece>>& out;  // (tile, piece)

  // `s` lies within the tiles of `r` grown by the margin; halve `r` until it is one tile.
  void cut(const Shape& s, std::size_t source, bool whole, const TileRange& r) {
    if (!wanted.any(r)) return;
    if (r.x0 == r.x1 && r.y0 == r.y1) {
      const WorldBox tile = grid.boxOf(r, margin);
      if (within(s.bounds(), tile)) {
        out.push_back({grid.index(r.x0, r.y0), {source, s, whole}});
      } else {
        Shape p = clipToBox(s, tile, polygonal);
        if (!p.empty()) out.push_back({grid.index(r.x0, r.y0), {source, std::move(p), false}});
      }
      return;
    }
    TileRange a = r, b = r;
    if (r.x1 - r.x0 >= r.y1 - r.y0) {
      a.x1 = (r.x0 + r.x1) / 2;
      b.x0 = a.x1 + 1;
    } else {
      a.y1 = (r.y0 + r.y1) / 2;
      b.y0 = a.y1 + 1;
    }
    const WorldBox bounds = s.bounds();
    for (const TileRange& half : {a, b}) {
      const TileRange h = intersect(half, grid.rangeOf(bounds, margin));
      if (!wanted.any(h)) continue;
      const WorldBox hb = grid.boxOf(h, margin);
      if (within(bounds, hb)) {
        cut(s, source, whole, h);
      } else {
        Shape p = clipToBox(s, hb, polygonal);
        if (!p.empty()) cut(p, source, false, intersect(h, grid.rangeOf(p.bounds(), margin)));
      }
    }
  }
};

}  // namespace

TileGrid::TileGrid(const WorldBox& extent, double sideM, const std::vector<double>& avoidX,
                   const std::vector<double>& avoidY) {
  const double w = extent.maxX - extent.minX, h = extent.maxY - extent.minY;
  // One tile: the whole plane, so nothing is ever clipped.
  ox_ = oy_ = -std::numeric_limits<double>::max() / 4;
  side_ = std::numeric_limits<double>::max() / 2;
  if (!(sideM > 0) || !(w >= 0 && h >= 0) || (w < sideM && h < sideM)) return;
  double ox = 0, oy = 0;
  bool foundX = false, foundY = false;
  for (double f : kOriginShifts) {
    if (!foundX && clearOfEdges(avoidX, extent.minX - f * sideM, sideM)) {
      ox = extent.minX - f * sideM;
      foundX = true;
    }
    if (!foundY && clearOfEdges(avoidY, extent.minY - f * sideM, sideM)) {
      oy = extent.minY - f * sideM;
      foundY = true;
    }
  }
  if (!foundX || !foundY) return;
  ox_ = ox;
  oy_ = oy;
  side_ = sideM;
  nx_ = static_cast<int>(std::floor((extent.maxX - ox) / sideM)) + 1;
  ny_ = static_cast<int>(std::floor((extent.maxY - oy) / sideM)) + 1;
}

TileRange TileGrid::rangeOf(const WorldBox& box, double marginM) const {
  if (count() == 1) return {0, 0, 0, 0};
  // Clamped before the conversion: a box far outside the grid (or unbounded) gives the edge
  // tile, never an out-of-range int.
  auto cell = [](double t, int n) {
    if (!(t > 0)) return 0;  // NaN too
    return t >= n - 1 ? n - 1 : static_cast<int>(t);
  };
  auto lo = [&](double v, double o, int n) {
    return cell(std::ceil((v - marginM - o) / side_ - 1), n);
  };
  auto hi = [&](double v, double o, int n) {
    return cell(std::floor((v + marginM - o) / side_), n);
  };
  return {lo(box.minX, ox_, nx_), lo(box.minY, oy_, ny_), hi(box.maxX, ox_, nx_),
          hi(box.maxY, oy_, ny_)};
}

WorldBox TileGrid::boxOf(const TileRange& range, double marginM) const {
  WorldBox b;
  if (count() == 1) {
    b.minX = b.minY = -std::numeric_limits<double>::max();
    b.maxX = b.maxY = std::numeric_limits<double>::max();
    return b;
  }
  b.minX = ox_ + range.x0 * side_ - marginM;
  b.minY = oy_ + range.y0 * side_ - marginM;
  b.maxX = ox_ + (range.x1 + 1) * side_ + marginM;
  b.maxY = oy_ + (range.y1 + 1) * side_ + marginM;
  return b;
}

std::vector<std::vector<TilePiece>> cutIntoTiles(const TileGrid& grid,
                                                 const std::vector<Shape>& shapes, double marginM,
                                                 const std::vector<char>& wanted, int threads) {
  const WantedTiles want(grid, wanted);
  // Each shape is cut on its own (on the threads), then the pieces go to their tiles in shape
  // order, as one thread would have put them.
  std::vector<std::vector<std::pair<std::size_t, TilePiece>>> perShape(shapes.size());
  parallelFor(shapes.size(), threads, [&](std::size_t i) {
    const Shape& s = shapes[i];
    if (s.empty()) return;
    Cutter cutter{grid, want, marginM, s.area() > 0, perShape[i]};
    cutter.cut(s, i, true, grid.rangeOf(s.bounds(), marginM));
  });
  std::vector<std::vector<TilePiece>> out(grid.count());
  for (auto& pieces : perShape) {
    for (auto& [tile, piece] : pieces) out[tile].push_back(std::move(piece));
    pieces = {};
  }
  return out;
}

std::vector<char> tilesTouched(const TileGrid& grid, const std::vector<Shape>& shapes,
                               double marginM) {
  std::vector<char> touched(grid.count(), 0);
  for (const auto& s : shapes) {
    if (s.empty()) continue;
    const TileRange r = grid.rangeOf(s.bounds(), marginM);
    for (int y = r.y0; y <= r.y1; ++y) {
      for (int x = r.x0; x <= r.x1; ++x) touched[grid.index(x, y)] = 1;
    }
  }
  return touched;
}

}  // namespace fieldseg::eval
