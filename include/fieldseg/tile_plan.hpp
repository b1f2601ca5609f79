// TilePlan: splits a raster grid into tiles whose cores partition it exactly once; each tile's read
// window adds a halo around the core, clipped at the raster edge. Order is row-major and
// deterministic; the last row/column of tiles is ragged. Immutable, thread-safe.
#pragma once

#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg {

struct TileSpec {
  int id = 0;
  int row = 0;  ///< tile row index
  int col = 0;  ///< tile column index
  PixelWindow core;
  PixelWindow read;  ///< core + halo, clipped to the raster
};

class TilePlan {
 public:
  /// Throws UsageError when tilePx < 1, haloPx < 0 or the grid is empty.
  TilePlan(int width, int height, int tilePx, int haloPx);
  const std::vector<TileSpec>& tiles() const { return tiles_; }
  int tilesX() const { return tilesX_; }
  int tilesY() const { return tilesY_; }
  int tilePx() const { return tilePx_; }
  int haloPx() const { return haloPx_; }

 private:
  std::vector<TileSpec> tiles_;
  int tilesX_ = 0, tilesY_ = 0, tilePx_ = 0, haloPx_ = 0;
};

}  // namespace fieldseg
