// Label suggestions: the windows of an image where a model is least sure of itself, ranked so that
// an annotator who can draw N more fields draws them where they help most (active learning).
//
// The score of a window is the mean, over its valid pixels, of the binary entropy (bits) of the
// extent and boundary probabilities: 1 where the model says 0.5, 0 where it says 0 or 1. Windows
// that already hold labels (above `maxLabelledFraction` of their pixels), or that are mostly
// nodata, are skipped. Pure function of its inputs; reentrant. Ownership: src/eval (suggest.cpp).
#pragma once

#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg {

struct SuggestOptions {
  int windowPx = 64;  ///< side of a candidate window; windows tile the image without overlap
  int count = 20;     ///< windows returned at most (the highest scores)
  /// Windows with more of their pixels inside the labelled polygons than this are skipped.
  double maxLabelledFraction = 0.0;
  /// Windows with fewer valid (not nodata) pixels than this fraction of window_px^2 are skipped
  /// (so are slivers at the right and bottom edges).
  double minValidFraction = 0.5;
  /// Windows whose mean extent probability is below this hold no fields to draw; skipped.
  double minMeanExtent = 0.05;
};

struct Suggestion {
  int rank = 0;        ///< 1 = the most uncertain window
  PixelWindow window;  ///< on the probabilities' grid
  double score = 0;    ///< mean of extentEntropy and boundaryEntropy (bits, 0..1)
  double extentEntropy = 0, boundaryEntropy = 0;
  double meanExtent = 0;
  double validFraction = 0, labelledFraction = 0;
};

struct SuggestReport {
  long long windows = 0;          ///< candidate windows
  long long skippedLabelled = 0;  ///< already labelled above maxLabelledFraction
  long long skippedNodata = 0;    ///< below minValidFraction
  long long skippedNoCrop = 0;    ///< below minMeanExtent
};

/// Ranks the windows of `probabilities` (bands 1-2 = extent, boundary; values in [0, 1], or 0..255
/// when `bytes`) by uncertainty. `labelled` are polygons already drawn, in the probabilities' CRS.
/// Throws UsageError for options out of range.
std::vector<Suggestion> suggestWindows(const RasterSource& probabilities, bool bytes,
                                       const std::vector<Polygon>& labelled,
                                       const SuggestOptions& options,
                                       SuggestReport* report = nullptr);

}  // namespace fieldseg
