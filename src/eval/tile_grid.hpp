// TileGrid: square tiles over the evaluation extent, and cutIntoTiles, which splits shapes into
// per-tile pieces, so that unions, buffers and intersections run on small local pieces instead of
// whole layers (GEOS overlays of a layer with large many-vertex polygons grow much faster than its
// vertex count). Internal to src/eval.
//
// Tile edges are placed off every vertex coordinate they are told to avoid: a segment lying along a
// tile edge would be clipped into both neighbouring tiles and its length counted twice. Areas do
// not need this (an edge has no area).
//
// Immutable after construction; const methods are thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "fieldseg/geo.hpp"
#include "fieldseg/geometry_metrics.hpp"

namespace fieldseg::eval {

/// An inclusive block of tile columns x0..x1 and rows y0..y1 (empty when x0 > x1 or y0 > y1).
struct TileRange {
  int x0 = 0, y0 = 0, x1 = -1, y1 = -1;
  bool empty() const { return x0 > x1 || y0 > y1; }
};

class TileGrid {
 public:
  /// Tiles of side `sideM` covering `extent`, with the origin shifted (by less than a tile) so
  /// that no value of `avoidX` lies within 1e-6 m of a vertical tile edge and none of `avoidY` of
  /// a horizontal one. When `sideM` covers the extent, or no shift works, the grid is one tile.
  TileGrid(const WorldBox& extent, double sideM, const std::vector<double>& avoidX,
           const std::vector<double>& avoidY);

  int nx() const { return nx_; }
  int ny() const { return ny_; }
  std::size_t count() const { return static_cast<std::size_t>(nx_) * ny_; }
  std::size_t index(int x, int y) const { return static_cast<std::size_t>(y) * nx_ + x; }

  /// The tiles whose box grown by `marginM` overlaps `box` (touching counts), clamped to the grid.
  TileRange rangeOf(const WorldBox& box, double marginM) const;
  /// The box of a block of tiles grown by `marginM`.
  WorldBox boxOf(const TileRange& range, double marginM) const;

 private:
  double ox_ = 0, oy_ = 0, side_ = 1;
  int nx_ = 1, ny_ = 1;
};

/// One part of an input shape inside one tile (grown by the cut's margin).
struct TilePiece {
  std::size_t source = 0;  ///< index of the input shape
  Shape shape;             ///< the input itself when `whole`, else its intersection with the tile
  bool whole = false;
};

/// For each tile of `grid`, the pieces of `shapes` inside that tile grown by `marginM`: a shape
/// whose box lies inside the grown tile is kept whole, any other is intersected with it. Shapes
/// spanning many tiles are halved recursively, so each is clipped O(log tiles) times. Only tiles
/// with `wanted[tile] != 0` receive pieces (an empty `wanted` means every tile). Shapes are cut
/// on `threads` threads (parallel_for.hpp); each tile's pieces are in shape order for any count.
std::vector<std::vector<TilePiece>> cutIntoTiles(const TileGrid& grid,
                                                 const std::vector<Shape>& shapes, double marginM,
                                                 const std::vector<char>& wanted = {},
                                                 int threads = 1);

/// The parts of `s` inside `box` of its own dimension (areas when `polygonal`, else lines).
Shape clipToBox(const Shape& s, const WorldBox& box, bool polygonal);

/// wanted[tile] = 1 for every tile that the box of some non-empty shape in `shapes` overlaps
/// when the tiles are grown by `marginM`.
std::vector<char> tilesTouched(const TileGrid& grid, const std::vector<Shape>& shapes,
                               double marginM);

}  // namespace fieldseg::eval
