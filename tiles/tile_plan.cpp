#include "fieldseg/tile_plan.hpp"

#include <algorithm>

#include "fieldseg/error.hpp"

namespace fieldseg {

TilePlan::TilePlan(int width, int height, int tilePx, int haloPx)
    : tilePx_(tilePx), haloPx_(haloPx) {
  if (width <= 0 || height <= 0) {
    throw UsageError("tiles: raster size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is empty. Check the input raster.");
  }
  if (tilePx < 1) {
    throw UsageError("tiles: tile_px " + std::to_string(tilePx) +
                     " must be >= 1. Raise --tile-px.");
  }
  if (haloPx < 0) {
    throw UsageError("tiles: halo_px " + std::to_string(haloPx) + " must be >= 0. Fix --halo-px.");
  }
  tilesX_ = (width + tilePx - 1) / tilePx;
  tilesY_ = (height + tilePx - 1) / tilePx;
  const PixelWindow full{0, 0, width, height};
  tiles_.reserve(static_cast<size_t>(tilesX_) * tilesY_);
  for (int ty = 0; ty < tilesY_; ++ty) {
    for (int tx = 0; tx < tilesX_; ++tx) {
      TileSpec t;
      t.id = static_cast<int>(tiles_.size());
      t.row = ty;
      t.col = tx;
      t.core = PixelWindow{tx * tilePx, ty * tilePx, std::min(tilePx, width - tx * tilePx),
                           std::min(tilePx, height - ty * tilePx)};
      t.read = PixelWindow{t.core.x - haloPx, t.core.y - haloPx, t.core.width + 2 * haloPx,
                           t.core.height + 2 * haloPx}
                   .intersect(full);
      tiles_.push_back(t);
    }
  }
}

}  // namespace fieldseg
