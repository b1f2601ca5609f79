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

struct MosaicStats {
  long long tiles = 0, nodataTiles = 0;
  long long nonFinitePixels = 0;  ///< pixel-dates of the area masked because a value is NaN/Inf
};

/// Predicts `area` (pixels of the dates' grid) and writes it to `writer` (a 3-band Byte raster of
/// area's size): value = round(mean probability * 255) over the dates valid at the pixel, 0 where
/// none is. `stats[d]` are date d's band statistics (normalisation).
MosaicStats predictMosaic(const std::vector<std::unique_ptr<RasterSource>>& dates,
                          const std::vector<std::vector<BandStats>>& stats, Predictor& predictor,
                          const PixelWindow& area, const DelineateOptions& o,
                          GeoTiffWriter& writer);

}  // namespace fieldseg
