// Robust per-band statistics over valid pixels of a decimated read (see raster_source.hpp).
#include <algorithm>
#include <cmath>

#include "fieldseg/raster_source.hpp"

namespace fieldseg {
namespace {

// Linear interpolation between order statistics (numpy's default "linear" method), so values
// agree with numpy.percentile on the same sample. `v` is reordered.
double percentile(std::vector<float>& v, double q) {
  if (v.empty()) return 0.0;
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double a = v[lo];
  if (hi == lo) return a;
  // The next order statistic is the minimum of the upper part after nth_element.
  const double b = *std::min_element(v.begin() + lo + 1, v.end());
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

}  // namespace

std::vector<BandStats> computeStats(const RasterSource& source, int maxSidePx) {
  Raster<float> r = source.readDecimated(maxSidePx);
  std::vector<BandStats> out(static_cast<size_t>(r.bands));
  std::vector<float> vals;
  for (int b = 0; b < r.bands; ++b) {
    vals.clear();
    const float* p = r.band(b);
    double sum = 0;
    for (size_t i = 0; i < r.plane(); ++i) {
      if (r.valid[i] && std::isfinite(p[i])) {
        vals.push_back(p[i]);
        sum += p[i];
      }
    }
    BandStats& s = out[b];
    s.validCount = static_cast<long long>(vals.size());
    if (vals.empty()) continue;
    s.mean = sum / static_cast<double>(vals.size());
    double ss = 0;
    for (float v : vals) ss += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(vals.size()));
    s.p2 = percentile(vals, 2.0);
    s.p98 = percentile(vals, 98.0);
  }
  return out;
}

bool hasValidPixels(const RasterSource& source) {
  for (const auto& st : computeStats(source))
    if (st.validCount > 0) return true;
  return false;
}

}  // namespace fieldseg
