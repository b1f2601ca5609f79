#include "tiled_metrics.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "coverage_sweep.hpp"
#include "dissolve_lines.hpp"
#include "length_inside.hpp"
#include "near_length.hpp"
#include "parallel_for.hpp"
#include "world_box_ops.hpp"

namespace fieldseg::eval {
namespace {}  // namespace

std::vector<Shape> regionByTile(const TileGrid& grid, const std::optional<Shape>& region) {
  std::vector<Shape> out;
  if (!region) return out;
  out.resize(grid.count());
  auto pieces = cutIntoTiles(grid, {*region}, 0);
  for (std::size_t t = 0; t < pieces.size(); ++t) {
    if (!pieces[t].empty()) out[t] = pieces[t].front().shape;
  }
  return out;
}

std::vector<Shape> labelledByTile(const TileGrid& grid, const std::vector<Shape>& truth,
                                  double bufferM, int quadSegs, const std::vector<Shape>& aoiTiles,
                                  int threads) {
  std::vector<char> wanted(grid.count(), 1);
  for (std::size_t t = 0; t < aoiTiles.size(); ++t) wanted[t] = !aoiTiles[t].empty();
  auto pieces = cutIntoTiles(grid, truth, 2 * bufferM, wanted, threads);
  std::vector<Shape> out(grid.count());
  const bool oneTile = grid.count() == 1;  // its tile is unbounded: nothing to cut
  parallelFor(grid.count(), threads, [&](std::size_t t) {
    if (pieces[t].empty()) return;
    std::vector<Shape> shapes;
    shapes.reserve(pieces[t].size());
    for (auto& p : pieces[t]) shapes.push_back(std::move(p.shape));
    pieces[t] = {};
    Shape l = Shape::unionOf(shapes);
    if (bufferM > 0) l = l.buffer(bufferM, quadSegs);
    if (!oneTile) {
      const int x = static_cast<int>(t % grid.nx()), y = static_cast<int>(t / grid.nx());
      l = clipToBox(l, grid.boxOf({x, y, x, y}, 0), true);
    }
    if (!aoiTiles.empty() && !l.empty()) l = l.intersection(aoiTiles[t]);
    out[t] = std::move(l);
  });
  return out;
}

namespace {

// The polygons of every shape of two layers, and for each tile the shapes whose box overlaps it.
// A shape within 4 x 4 tiles is not cut: each tile's sweep clips the rings it is given to the
// tile. A larger one (a blob with thousands of vertices over many tiles) is cut into per-tile
// pieces first (cutIntoTiles: O(log tiles) clips), so no tile walks all of its rings.
struct TiledLayers {
  struct Item {
    int layer;
    std::size_t index;
  };
  std::vector<std::vector<Polygon>> polys[2];
  std::vector<std::vector<Item>> items;
  std::vector<std::vector<TilePiece>> pieces[2];  // of the large shapes, by tile
  std::optional<WorldBox> extent;                 ///< of every shape; none when both are empty

  TiledLayers(const TileGrid& grid, const std::vector<Shape>& first,
              const std::vector<Shape>& second, int threads)
      : items(grid.count()) {
    const std::vector<Shape>* layers[2] = {&first, &second};
    for (int l = 0; l < 2; ++l) {
      const std::vector<Shape>& shapes = *layers[l];
      polys[l].resize(shapes.size());
      std::vector<Shape> large(shapes.size());
      std::vector<TileRange> ranges(shapes.size());
      parallelFor(shapes.size(), threads, [&](std::size_t i) {
        if (shapes[i].empty()) return;
        ranges[i] = grid.rangeOf(shapes[i].bounds(), 0);
        if (ranges[i].x1 - ranges[i].x0 >= 4 || ranges[i].y1 - ranges[i].y0 >= 4) {
          large[i] = shapes[i];
        } else {
          polys[l][i] = shapes[i].polygons();
        }
      });
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        if (shapes[i].empty()) continue;
        const WorldBox b = shapes[i].bounds();
        extent = extent ? unite(*extent, b) : b;
        if (!large[i].empty() || polys[l][i].empty()) continue;
        const TileRange& r = ranges[i];
        for (int y = r.y0; y <= r.y1; ++y) {
          for (int x = r.x0; x <= r.x1; ++x) items[grid.index(x, y)].push_back({l, i});
        }
      }
      pieces[l] = cutIntoTiles(grid, large, 0, {}, threads);
    }
  }

  bool anyIn(std::size_t t) const {
    return !items[t].empty() || !pieces[0][t].empty() || !pieces[1][t].empty();
  }

  /// A sweep over tile t (clamped to the extent) holding the shapes that reach it.
  CoverageSweep sweepOf(const TileGrid& grid, std::size_t t) const {
    const int x = static_cast<int>(t % grid.nx()), y = static_cast<int>(t / grid.nx());
    // The tile (unbounded when the grid is one tile) within the extent.
    CoverageSweep sweep(clampTo(grid.boxOf({x, y, x, y}, 0), *extent));
    for (const Item& it : items[t]) {
      for (const auto& poly : polys[it.layer][it.index]) sweep.add(it.layer, poly, it.index);
    }
    for (int l = 0; l < 2; ++l) {
      for (const auto& piece : pieces[l][t]) {
        for (const auto& poly : piece.shape.polygons()) sweep.add(l, poly, piece.source);
      }
    }
    return sweep;
  }
};

}  // namespace

ExtentAreas extentAreas(const TileGrid& grid, const std::vector<Shape>& truth,
                        const std::vector<Shape>& pred, const std::vector<Shape>& regionTiles,
                        int threads, const ProgressFn& progress) {
  const TiledLayers tiled(grid, truth, pred, threads);
  if (!tiled.extent) return {};
  std::vector<ExtentAreas> perTile(grid.count());
  const bool inRegion = !regionTiles.empty();
  parallelFor(
      grid.count(), threads,
      [&](std::size_t t) {
        if (!tiled.anyIn(t) || (inRegion && regionTiles[t].empty())) return;
        CoverageSweep sweep = tiled.sweepOf(grid, t);
        if (inRegion) {
          for (const auto& poly : regionTiles[t].polygons()) sweep.add(2, poly);
        }
        const CoverageSweep::Areas a = sweep.areas(inRegion);
        perTile[t] = {a.first, a.second, a.both};
      },
      progress);
  ExtentAreas a;
  for (const auto& p : perTile) {  // in tile order: the same sums for any thread count
    a.truthM2 += p.truthM2;
    a.predM2 += p.predM2;
    a.overlapM2 += p.overlapM2;
  }
  return a;
}

PairAreas pairAreas(const TileGrid& grid, const std::vector<Shape>& truth,
                    const std::vector<Shape>& pred, int threads, const ProgressFn& progress) {
  PairAreas out;
  out.truthM2.assign(truth.size(), 0.0);
  out.predM2.assign(pred.size(), 0.0);
  out.byTruth.resize(truth.size());
  const TiledLayers tiled(grid, truth, pred, threads);
  if (!tiled.extent) return out;
  std::vector<CoverageSweep::OwnerAreas> perTile(grid.count());
  parallelFor(
      grid.count(), threads,
      [&](std::size_t t) {
        if (tiled.anyIn(t)) perTile[t] = tiled.sweepOf(grid, t).ownerAreas();
      },
      progress);
  for (auto& tile : perTile) {  // in tile order: the same sums for any thread count
    for (const auto& o : tile.first) out.truthM2[o.owner] += o.area;
    for (const auto& o : tile.second) out.predM2[o.owner] += o.area;
    for (const auto& o : tile.overlaps) {
      auto& list = out.byTruth[o.first];
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const auto& e) { return e.first == o.second; });
      if (it == list.end())
        list.emplace_back(o.second, o.area);
      else
        it->second += o.area;
    }
    tile = {};
  }
  for (auto& list : out.byTruth) std::sort(list.begin(), list.end());
  return out;
}

std::vector<double> areasInRegion(const TileGrid& grid, const std::vector<Shape>& shapes,
                                  const std::vector<char>& which,
                                  const std::vector<Shape>& regionTiles, int threads) {
  std::vector<double> areas(shapes.size(), 0.0);
  std::vector<Shape> selected(shapes.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (which[i]) selected[i] = shapes[i];
  }
  std::vector<char> wanted(grid.count(), 0);
  for (std::size_t t = 0; t < grid.count(); ++t) wanted[t] = !regionTiles[t].empty();
  auto pieces = cutIntoTiles(grid, selected, 0, wanted, threads);
  std::vector<std::vector<double>> perPiece(grid.count());
  parallelFor(grid.count(), threads, [&](std::size_t t) {
    perPiece[t].assign(pieces[t].size(), 0.0);
    if (pieces[t].empty() || regionTiles[t].empty()) return;  // no region: no area in it
    // One sweep per tile over the region's bounds there (coverage_sweep.hpp): each piece's area
    // covered by the region too, no GEOS intersection per piece.
    CoverageSweep sweep(regionTiles[t].bounds());
    for (std::size_t k = 0; k < pieces[t].size(); ++k)
      for (const auto& poly : pieces[t][k].shape.polygons()) sweep.add(0, poly, k);
    for (const auto& poly : regionTiles[t].polygons()) sweep.add(1, poly, 0);
    for (const auto& o : sweep.ownerAreas().overlaps) perPiece[t][o.first] += o.area;
  });
  for (std::size_t t = 0; t < grid.count(); ++t)  // in tile order, as one thread adds them
    for (std::size_t k = 0; k < pieces[t].size(); ++k) areas[pieces[t][k].source] += perPiece[t][k];
  return areas;
}

std::vector<Shape> dissolvedByTile(const TileGrid& grid, const std::vector<Shape>& linework,
                                   const std::vector<Shape>& regionTiles, int threads,
                                   const ProgressFn& progress) {
  auto pieces = cutIntoTiles(grid, linework, 0, {}, threads);
  std::vector<Shape> out(grid.count());
  parallelFor(
      grid.count(), threads,
      [&](std::size_t t) {
        if (pieces[t].empty()) return;
        std::vector<Shape> lines;
        lines.reserve(pieces[t].size());
        for (auto& p : pieces[t]) lines.push_back(std::move(p.shape));
        pieces[t] = {};
        out[t] = Shape::unionOf(lines);
        if (!regionTiles.empty()) out[t] = out[t].intersection(regionTiles[t]);
      },
      progress);
  return out;
}

namespace {

// The near length of the lines of each tile: `box(t)` bounds them (empty: no lines), `measure(t,
// near)` sums their lengths within the tolerance of the segments `near` holds.
template <class Box, class Measure>
double nearLengthOf(const TileGrid& grid, const std::vector<Shape>& linework, double toleranceM,
                    int threads, const ProgressFn& progress, Box&& box, Measure&& measure) {
  if (linework.empty() || !(toleranceM > 0)) return 0.0;
  std::vector<WorldBox> boxes(grid.count());
  for (std::size_t t = 0; t < grid.count(); ++t) boxes[t] = box(t);
  // Every segment of the linework, listed in each tile within the tolerance of it (a point of a
  // tile is near only segments within the tolerance of the tile).
  struct Segment {
    Point a, b;
  };
  std::vector<Segment> segments;
  for (const auto& l : linework)
    for (const auto& line : l.lineStrings())
      for (std::size_t k = 0; k + 1 < line.size(); ++k) segments.push_back({line[k], line[k + 1]});
  std::vector<std::vector<std::uint32_t>> byTile(grid.count());
  for (std::uint32_t k = 0; k < segments.size(); ++k) {
    const TileRange r = grid.rangeOf(boxOf(segments[k].a, segments[k].b), toleranceM);
    for (int y = r.y0; y <= r.y1; ++y)
      for (int x = r.x0; x <= r.x1; ++x) {
        const std::size_t t = grid.index(x, y);
        if (boxes[t].maxX >= boxes[t].minX) byTile[t].push_back(k);  // has lines
      }
  }
  std::vector<double> perTile(grid.count(), 0.0);
  parallelFor(
      grid.count(), threads,
      [&](std::size_t t) {
        if (byTile[t].empty()) return;
        // Cells over the tile's lines (a one-tile grid's tile is unbounded).
        NearSegments near(boxes[t], toleranceM);
        for (std::uint32_t k : byTile[t]) near.add(segments[k].a, segments[k].b);
        std::vector<std::uint32_t>().swap(byTile[t]);
        perTile[t] = measure(t, near);
      },
      progress);
  double length = 0;
  for (double l : perTile) length += l;  // in tile order
  return length;
}

// A box no line lies in (maxX < minX).
WorldBox noLines() {
  WorldBox b;
  b.minX = 1, b.maxX = 0;
  return b;
}

}  // namespace

double nearLength(const TileGrid& grid, const std::vector<Shape>& linesByTile,
                  const std::vector<Shape>& linework, double toleranceM, int threads,
                  const ProgressFn& progress) {
  return nearLengthOf(
      grid, linework, toleranceM, threads, progress,
      [&](std::size_t t) { return linesByTile[t].empty() ? noLines() : linesByTile[t].bounds(); },
      [&](std::size_t t, const NearSegments& near) {
        double l = 0;
        for (const auto& line : linesByTile[t].lineStrings()) l += near.length(line);
        return l;
      });
}

double nearLength(const TileGrid& grid, const std::vector<std::vector<LineSegment>>& segmentsByTile,
                  const std::vector<Shape>& linework, double toleranceM, int threads,
                  const ProgressFn& progress) {
  return nearLengthOf(
      grid, linework, toleranceM, threads, progress,
      [&](std::size_t t) {
        if (segmentsByTile[t].empty()) return noLines();
        WorldBox b = boxOf(segmentsByTile[t][0][0], segmentsByTile[t][0][1]);
        for (const auto& s : segmentsByTile[t]) b = unite(b, boxOf(s[0], s[1]));
        return b;
      },
      [&](std::size_t t, const NearSegments& near) {
        double l = 0;
        for (const auto& s : segmentsByTile[t]) l += near.length({s[0], s[1]});
        return l;
      });
}

namespace {

// Keeps the parts of each tile's segments inside the region's piece of the tile (closed).
void cutToRegion(std::vector<std::vector<LineSegment>>& byTile,
                 const std::vector<Shape>& regionTiles, int threads) {
  parallelFor(byTile.size(), threads, [&](std::size_t t) {
    if (byTile[t].empty()) return;
    LengthInside region;
    for (const auto& p : regionTiles[t].polygons()) region.add(p);
    std::vector<LineSegment> kept;
    std::vector<std::pair<double, double>> spans;
    for (const auto& s : byTile[t]) {
      region.spans(s[0], s[1], spans);
      const double dx = s[1].x - s[0].x, dy = s[1].y - s[0].y;
      auto at = [&](double u) {
        if (u == 0) return s[0];
        if (u == 1) return s[1];
        return Point{s[0].x + u * dx, s[0].y + u * dy};
      };
      for (const auto& [t0, t1] : spans) kept.push_back({at(t0), at(t1)});
    }
    byTile[t] = std::move(kept);
  });
}

}  // namespace

BoundaryLengths boundaryLengths(const TileGrid& grid, const std::vector<Shape>& truthLines,
                                const std::vector<Shape>& predLines,
                                const std::vector<Shape>& regionTiles, double toleranceM,
                                int threads, const std::function<ProgressFn(int)>& progressOf) {
  auto st = dissolvedSegmentsByTile(grid, truthLines, threads, progressOf(0));
  auto sp = dissolvedSegmentsByTile(grid, predLines, threads, progressOf(1));
  if (!regionTiles.empty()) {
    cutToRegion(st, regionTiles, threads);
    cutToRegion(sp, regionTiles, threads);
  }
  auto lengthOf = [](const std::vector<std::vector<LineSegment>>& byTile) {
    double l = 0;
    for (const auto& tile : byTile)  // in tile order
      for (const auto& s : tile) l += std::hypot(s[1].x - s[0].x, s[1].y - s[0].y);
    return l;
  };
  BoundaryLengths b;
  b.truthM = lengthOf(st);
  b.predM = lengthOf(sp);
  b.predNearM = nearLength(grid, sp, truthLines, toleranceM, threads, progressOf(2));
  b.truthNearM = nearLength(grid, st, predLines, toleranceM, threads, progressOf(3));
  return b;
}

BoundaryLengths boundaryLengthsWithGeos(const TileGrid& grid, const std::vector<Shape>& truthLines,
                                        const std::vector<Shape>& predLines,
                                        const std::vector<Shape>& regionTiles, double toleranceM,
                                        int threads,
                                        const std::function<ProgressFn(int)>& progressOf) {
  const auto& tb = truthLines;
  const auto& pb = predLines;
  const std::vector<Shape> btR = dissolvedByTile(grid, tb, regionTiles, threads, progressOf(0));
  const std::vector<Shape> bpR = dissolvedByTile(grid, pb, regionTiles, threads, progressOf(1));
  auto lengthOf = [](const std::vector<Shape>& byTile) {
    double l = 0;
    for (const auto& s : byTile) l += s.length();  // in tile order
    return l;
  };
  BoundaryLengths b;
  b.truthM = lengthOf(btR);
  b.predM = lengthOf(bpR);
  if (toleranceM > 0) {
    b.predNearM = nearLength(grid, bpR, tb, toleranceM, threads, progressOf(2));
    b.truthNearM = nearLength(grid, btR, pb, toleranceM, threads, progressOf(3));
    return b;
  }
  // The lines of one set inside R that lie on the other set's (whole) linework.
  const std::vector<Shape> bt = regionTiles.empty() ? btR : dissolvedByTile(grid, tb, {}, threads);
  const std::vector<Shape> bp = regionTiles.empty() ? bpR : dissolvedByTile(grid, pb, {}, threads);
  for (std::size_t t = 0; t < grid.count(); ++t) {
    b.predNearM += bpR[t].intersection(bt[t]).length();
    b.truthNearM += btR[t].intersection(bp[t]).length();
  }
  return b;
}

}  // namespace fieldseg::eval
