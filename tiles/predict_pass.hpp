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
  long long nonFinitePixels = 0;  ///< pixel-dates of the area masked because a value is NaN/Inf
};

/// Predicts `area` (pixels of the dates' grid) and writes it to `writer` (a 3-band Byte raster of
/// area's size, nodata kProbabilityNodata): value = round(mean probability * kProbabilityLevels)
/// over the dates valid at the pixel, kProbabilityNodata where none is. `stats[d]` are date d's
/// band statistics (normalisation).
MosaicStats predictMosaic(const std::vector<std::unique_ptr<RasterSource>>& dates,
                          const std::vector<std::vector<BandStats>>& stats, Predictor& predictor,
                          const PixelWindow& area, const DelineateOptions& o,
                          GeoTiffWriter& writer);

}  // namespace fieldseg
