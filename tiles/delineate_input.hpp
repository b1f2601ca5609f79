// delineate's input preparation (tiles/delineate.cpp): opening the dates and/or the given
// probabilities, checking them against the model and each other, and the pixel window to process
// (a grid cell's window, the AOI, the pixel budget).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "fieldseg/delineate.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg {

struct OpenedInput {
  std::vector<std::unique_ptr<RasterSource>> dates;  ///< one per date, the model's bands
  std::unique_ptr<RasterSource> probs;               ///< --probabilities-in, or null
  bool probsAreBytes = false;                        ///< probs are 0..255 (else floats 0..1)
  GridSpec grid;                                     ///< the grid everything is on
};

/// Opens in.dates (bands: o.bands, else the predictor's) and in.probabilitiesIn. UsageError when
/// neither a model nor probabilities, or no image at all, is given, or the bands do not match the
/// model; DataError when the dates or the probabilities are not on one grid.
OpenedInput openInputs(const DelineateInput& in, const DelineateOptions& o);

/// True when a and b have the same size and (to 1e-6 px) the same geotransform.
bool sameGrid(const GridSpec& a, const GridSpec& b);

/// The window of `grid` to process: all of it, or `forcedWindow` (clipped to it), narrowed to the
/// bounding box of o.aoi. UsageError when it exceeds o.maxMpx.
PixelWindow processedWindow(const GridSpec& grid, const std::optional<PixelWindow>& forcedWindow,
                            const DelineateOptions& o);

}  // namespace fieldseg
