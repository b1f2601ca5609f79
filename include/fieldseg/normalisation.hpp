// How raw band values become network input: the one definition, used by training
// (src/model/torch/trainer.cpp) and by inference (tiles/delineate.cpp), so the two cannot drift
// apart.
//
// Per band, with the scene's 2nd and 98th percentiles p2, p98 (BandStats, or a manifest's
// band_stats): clamp((v - p2) / max(p98 - p2, 1e-6), -1, 2), computed in double and stored as
// float; invalid pixels are 0.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace fieldseg {

inline float normalisedValue(float v, double p2, double p98) {
  const double scale = 1.0 / std::max(p98 - p2, 1e-6);
  return static_cast<float>(std::clamp((static_cast<double>(v) - p2) * scale, -1.0, 2.0));
}

/// In place over one band plane of n pixels; valid may be null (all valid).
inline void normalisePlane(float* p, const std::uint8_t* valid, size_t n, double p2, double p98) {
  for (size_t i = 0; i < n; ++i)
    p[i] = (valid && !valid[i]) ? 0.0f : normalisedValue(p[i], p2, p98);
}

}  // namespace fieldseg
