// Field instances from probability maps: threshold the extent map, cut the boundary map's
// hierarchical watershed at t_bound, and flood the ridges from the basins (rules in
// instances.cpp).
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
  int radiusPx = 2;             ///< crest pixels look this far for the nearest settled pixel
  int crestReach2 = 2;          ///< ... and join a field only within this squared distance
  int maxCost = 32;             ///< floods from basin floors stop at this cost (>= 1 per pixel)
  std::uint8_t mergeDistanceQ = 51;  ///< floods meeting where distance >= this (0.2) merge
  /// 0: the basin floors are the markers (rules 1-3 in instances.cpp). > 0: marker mode: markers
  /// are floor pixels whose 3x3 mean distance is >= this (t_dist) and >= markerRelPct % of the
  /// highest 3x3 mean distance within markerRadiusPx, so a gap in a boundary line no longer joins
  /// two fields; every field-like pixel is flooded from the markers, floods never come down the
  /// far side of a boundary line, and field-like pixels no marker reaches are background.
  std::uint8_t markerQ = 0;
  int markerRelPct = 70;    ///< marker mode: relative depth a marker needs (percent of local peak)
  int markerRadiusPx = 10;  ///< marker mode: radius of that local peak
};

/// Smallest q in 0..255 with q / 255 >= t (t clamped to [0, 1]).
std::uint8_t quantizeThreshold(double t);
/// A pixel's label depends on input pixels at most this far (Chebyshev distance) away. The tile
/// merger's fields halo must exceed it (tiles/delineate.cpp checks).
int instanceMarginPx(const InstanceParams& params);

/// Labels a window of rows x cols pixels. `distance` (may be null: no merging) is the distance
/// band; `valid` may be null (all valid). Invalid pixels are
/// background. Labels 1..n are numbered in row-major order of each marker component's first pixel;
/// returns n. Basin floors are 8-connected.
int labelInstances(const std::uint8_t* extent, const std::uint8_t* boundary,
                   const std::uint8_t* distance, const std::uint8_t* valid, int rows, int cols,
                   const InstanceParams& params, std::vector<std::int32_t>& labels);

}  // namespace fieldseg::post
