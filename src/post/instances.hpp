// Field instances from probability maps: threshold the extent map, cut the boundary map's
// hierarchical watershed at t_bound, and give each remaining pixel to the basin it drains into.
//
// Inputs are 8-bit probabilities (value = round(p * 255)). The result is a local label image of the
// window (0 = not a field). Every pixel's label depends only on the input within
// instanceMarginPx() of it, apart from the identity of the marker component it belongs to; that is
// what makes tiled processing exact (see tiles/README.md).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace fieldseg::post {

struct InstanceParams {
  std::uint8_t extentQ = 102;   ///< extent >= this (0..255) may be a field (t_ext 0.4)
  std::uint8_t boundaryQ = 51;  ///< boundary < this is a basin floor (t_bound 0.2)
  int radiusPx = 8;             ///< distances to the nearest basin floor are capped here
  int maxSteps = 16;            ///< a ridge pixel must reach a basin within this many steps
};

/// Smallest q in 0..255 with q / 255 >= t (t clamped to [0, 1]).
std::uint8_t quantizeThreshold(double t);
/// A pixel's label depends on input pixels at most this far (Chebyshev distance) away.
int instanceMarginPx(const InstanceParams& params);

/// Labels a window of rows x cols pixels. `valid` may be null (all valid). Invalid pixels are
/// background. Labels 1..n are numbered in row-major order of each marker component's first pixel;
/// returns n. Marker components use 4-connectivity.
int labelInstances(const std::uint8_t* extent, const std::uint8_t* boundary,
                   const std::uint8_t* valid, int rows, int cols, const InstanceParams& params,
                   std::vector<std::int32_t>& labels);

}  // namespace fieldseg::post
