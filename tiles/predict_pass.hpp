// Pass 1 of delineate (tiles/README.md): imagery -> 8-bit probability mosaic. Tiles of o.tilePx
// plus o.haloPx of context go through a TBB pipeline (read and normalise every date, predict in
// batches of o.batch, average the dates valid at each pixel, write the cores).
#pragma once

#include <memory>
#include <vector>

#include "fieldseg/delineate.hpp"
#include "fieldseg/predictor.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg {

/// The mosaic stores round(p * kProbabilityLevels) (GDAL scale 1 / kProbabilityLevels shows p)
/// and kProbabilityNodata where no date is valid: the whole byte range minus the nodata value.
constexpr int kProbabilityLevels = 254;
constexpr int kProbabilityNodata = 255;

struct MosaicStats {
  long long tiles = 0, nodataTiles = 0;
  int tileX = 0, tileY = 0;       ///< the network tile grid's cell size
  long long networkPixels = 0;    ///< pixels fed to the network (skipped tiles excluded)
  long long nonFinitePixels = 0;  ///< pixel-dates of the area masked because a value is NaN/Inf
};

/// The network's tiles: one grid over the whole raster, anchored at its (0, 0), whatever part of
/// it a run predicts, so that a pixel's probabilities are the same in a single run, an AOI window,
/// a grid cell or a shard. The cells are square (test-time rotations need it), as even as
/// --tile-px allows along the axis that needs the longer cell (a 1100 px side becomes 3 cells of
/// 368 px, not 512 + 512 + 76) and a multiple of 16; each is read with `haloPx` of context on
/// every side.
struct NetworkTileGrid {
  int tileX = 0, tileY = 0, haloPx = 0;
};

/// The cell length along an axis of `length` pixels: ceil(length / n) rounded up to 16, with
/// n = ceil(length / tilePx) cells.
int balancedTileLength(int length, int tilePx);
NetworkTileGrid networkTileGrid(int rasterW, int rasterH, int tilePx, int haloPx);

/// Predicts `area` (pixels of the dates' grid) and writes it to `writer` (a 3-band Byte raster of
/// area's size, nodata kProbabilityNodata): value = round(mean probability * kProbabilityLevels)
/// over the dates valid at the pixel, kProbabilityNodata where none is. `stats[d]` are date d's
/// band statistics (normalisation).
MosaicStats predictMosaic(const std::vector<std::unique_ptr<RasterSource>>& dates,
                          const std::vector<std::vector<BandStats>>& stats, Predictor& predictor,
                          const PixelWindow& area, const DelineateOptions& o,
                          GeoTiffWriter& writer);

}  // namespace fieldseg
