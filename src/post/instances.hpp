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
  /// 0: the basin floors are the markers (rules 1-3 in instances.cpp). > 0: marker mode: the
  /// markers are the h-maxima of the smoothed distance map (height markerHeightQ, searched within
  /// markerRadiusPx) whose smoothed distance is >= this (t_dist), each grown to the field-like
  /// pixels within that height of its peak, so a gap in a boundary line no longer joins two
  /// fields; every field-like pixel is flooded from the markers (step cost 1 + b^2 / 1024, stop
  /// at markerMaxCost), floods never come down the far side of a boundary line, and field-like
  /// pixels no marker reaches are background.
  std::uint8_t markerQ = 0;
  std::uint8_t markerHeightQ = 26;  ///< marker mode: dynamic a distance peak needs (0.1)
  int markerRadiusPx = 40;          ///< marker mode: how far the dynamic test looks
  int markerMaxCost = 96;           ///< marker mode: floods stop at this cost (>= 1 per pixel)
};

/// Smallest q in 0..255 with q / 255 >= t (t clamped to [0, 1]).
std::uint8_t quantizeThreshold(double t);
/// A pixel's label depends on input pixels at most this far (Chebyshev distance) away. The tile
/// merger derives its fields halo from it (tiles/delineate.cpp, fieldsHaloMarginPx).
int instanceMarginPx(const InstanceParams& params);

/// Radius of the Gaussian (sigma 1 px) that smooths the distance head before markers are found.
constexpr int kDistanceSmoothRadiusPx = 3;

/// Marker mode's markers (distance_markers.cpp): isMarker[i] = 1 where pixel i is field-like
/// (kind[i] 1 or 2) and lies on the top of a peak of the Gaussian-smoothed (sigma 1 px) distance
/// map: a local maximum whose dynamic is >= markerHeightQ (no higher pixel is reachable through
/// pixels above its value minus that height; the h-maxima of morphology, the search bounded to
/// markerRadiusPx) and whose smoothed distance is >= markerQ, together with the pixels that search
/// visited. Exposed for tests.
void distanceMarkers(const std::uint8_t* distance, int rows, int cols, const InstanceParams& params,
                     const std::vector<std::uint8_t>& kind, std::vector<std::uint8_t>& isMarker);

/// The part of a window whose labels the caller keeps: rows [row0, row0 + rows), columns
/// [col0, col0 + cols). The rest of the window is context.
struct KeptBox {
  int row0 = 0, col0 = 0, rows = 0, cols = 0;
};

/// Labels a window of rows x cols pixels. `distance` (may be null: no merging) is the distance
/// band; `valid` may be null (all valid). Invalid pixels are
/// background. Labels 1..n are numbered in row-major order of each marker component's first pixel;
/// returns n. Basin floors are 8-connected.
/// With `kept` (marker mode only; ignored otherwise), only the labels inside it are computed
/// exactly, the same as without it: floods run only within reach of it (markerMaxCost + radiusPx
/// around it) and crests are settled only inside it; labels elsewhere may differ. Markers are
/// still found in the whole window, so label numbers and the count do not change.
int labelInstances(const std::uint8_t* extent, const std::uint8_t* boundary,
                   const std::uint8_t* distance, const std::uint8_t* valid, int rows, int cols,
                   const InstanceParams& params, std::vector<std::int32_t>& labels,
                   const KeptBox* kept = nullptr);

}  // namespace fieldseg::post
