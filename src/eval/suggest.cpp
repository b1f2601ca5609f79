// Label suggestions (include/fieldseg/suggest.hpp): per-window mean binary entropy of the extent
// and boundary probabilities, read one strip of windows (window_px rows, the image's width) at a
// time, so memory grows with the image width, not its height.
#include "fieldseg/suggest.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "fieldseg/error.hpp"
#include "fieldseg/rasterize.hpp"

namespace fieldseg {
namespace {

double entropyBits(double p) {
  p = std::clamp(p, 0.0, 1.0);
  if (p <= 0.0 || p >= 1.0) return 0.0;
  return -(p * std::log2(p) + (1.0 - p) * std::log2(1.0 - p));
}

void check(const SuggestOptions& o) {
  if (o.windowPx < 8 || o.windowPx > 4096)
    throw UsageError("suggest: window_px " + std::to_string(o.windowPx) +
                     " must be in 8..4096. Give a window about the size of a few fields.");
  if (o.count < 1) throw UsageError("suggest: count must be >= 1.");
  if (!(o.maxLabelledFraction >= 0 && o.maxLabelledFraction <= 1))
    throw UsageError("suggest: max_labelled_fraction must be in [0, 1].");
  if (!(o.minValidFraction >= 0 && o.minValidFraction <= 1))
    throw UsageError("suggest: min_valid_fraction must be in [0, 1].");
  if (!(o.minMeanExtent >= 0 && o.minMeanExtent <= 1))
    throw UsageError("suggest: min_mean_extent must be in [0, 1].");
}

}  // namespace

std::vector<Suggestion> suggestWindows(const RasterSource& probabilities, bool bytes,
                                       const std::vector<Polygon>& labelled,
                                       const SuggestOptions& o, SuggestReport* report) {
  check(o);
  if (probabilities.bands().size() < 2)
    throw DataError("suggest: the probabilities need bands 1-2 (extent, boundary); got " +
                    std::to_string(probabilities.bands().size()) + ".");
  const GridSpec& grid = probabilities.grid();
  const int w = grid.width(), h = grid.height();
  const double k = bytes ? 1.0 / 255.0 : 1.0;
  SuggestReport rep;
  std::vector<Suggestion> all;
  for (int y0 = 0; y0 < h; y0 += o.windowPx) {
    const int sh = std::min(o.windowPx, h - y0);
    const PixelWindow strip{0, y0, w, sh};
    const Raster<float> r = probabilities.read(strip);
    std::vector<std::int32_t> lab;
    if (!labelled.empty()) lab = rasterizePolygons(labelled, grid.subGrid(strip)).data;
    for (int x0 = 0; x0 < w; x0 += o.windowPx) {
      const int sw = std::min(o.windowPx, w - x0);
      ++rep.windows;
      long long valid = 0, inLabels = 0;
      double he = 0, hb = 0, me = 0;
      for (int y = 0; y < sh; ++y) {
        for (int x = x0; x < x0 + sw; ++x) {
          const size_t i = static_cast<size_t>(y) * w + x;
          if (!lab.empty() && lab[i] != 0) ++inLabels;
          if (!r.valid[i]) continue;
          const double pe = r.band(0)[i] * k, pb = r.band(1)[i] * k;
          he += entropyBits(pe);
          hb += entropyBits(pb);
          me += pe;
          ++valid;
        }
      }
      // Valid pixels are counted against a whole window, so a sliver at the right or bottom edge
      // (a few pixels wide) cannot top the ranking; labelled ones against the pixels there are.
      const double full = static_cast<double>(o.windowPx) * o.windowPx;
      Suggestion s;
      s.window = {x0, y0, sw, sh};
      s.validFraction = valid / full;
      s.labelledFraction = inLabels / (static_cast<double>(sw) * sh);
      if (s.labelledFraction > o.maxLabelledFraction) {
        ++rep.skippedLabelled;
        continue;
      }
      if (valid == 0 || s.validFraction < o.minValidFraction) {
        ++rep.skippedNodata;
        continue;
      }
      s.extentEntropy = he / valid;
      s.boundaryEntropy = hb / valid;
      s.meanExtent = me / valid;
      if (s.meanExtent < o.minMeanExtent) {
        ++rep.skippedNoCrop;
        continue;
      }
      s.score = 0.5 * (s.extentEntropy + s.boundaryEntropy);
      all.push_back(s);
    }
  }
  // Highest score first; ties in row-major window order, so the ranking is deterministic.
  std::stable_sort(all.begin(), all.end(),
                   [](const Suggestion& a, const Suggestion& b) { return a.score > b.score; });
  if (all.size() > static_cast<size_t>(o.count)) all.resize(o.count);
  for (size_t i = 0; i < all.size(); ++i) all[i].rank = static_cast<int>(i) + 1;
  if (report) *report = rep;
  return all;
}

}  // namespace fieldseg
