// Builds one output Field from the pixels of one instance (possibly gathered from several tiles):
// pixel runs -> exact pixel-edge polygon (largest 4-connected part, holes kept) -> topology-
// preserving simplification -> world coordinates -> ellipsoidal area / perimeter -> attributes.
//
// Everything is computed from integer pixel runs and integer sums, so an instance gives the same
// field whichever tiles its pixels came from.
//
// Thread safety: a FieldBuilder holds PROJ transforms; use one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/geometry.hpp"

namespace fieldseg::post {

/// Pixels [c0, c1) of global row `row`.
struct PixelRun {
  std::int64_t row = 0;
  std::int32_t c0 = 0;
  std::int32_t c1 = 0;
};

/// The pixels of one instance inside one tile core, with integer statistics.
struct Piece {
  std::int64_t key = 0;         ///< unique per (tile, local label)
  std::int64_t firstPixel = 0;  ///< smallest global row-major index row * width + col
  std::vector<PixelRun> runs;   ///< in row-major order
  std::int64_t pixels = 0;
  std::int64_t sumExtent = 0;        ///< sum of 8-bit extent over the pixels
  std::int64_t edgePixels = 0;       ///< pixels with a 4-neighbour outside the instance
  std::int64_t sumEdgeBoundary = 0;  ///< sum of 8-bit boundary over those
};

struct BuildParams {
  double simplifyM = 0;    ///< topology-preserving tolerance in metres (0 = exact pixel edges)
  double minAreaM2 = 100;  ///< smaller fields are dropped
};

/// A built field and its sort key (the instance's first pixel in row-major order).
struct BuiltField {
  std::int64_t firstPixel = 0;
  std::int64_t minRow = 0, minCol = 0, maxRow = 0, maxCol = 0;  ///< pixel bounds (inclusive)
  Field field;
};

class FieldBuilder {
 public:
  /// `grid` is the full raster grid that the global pixel coordinates refer to.
  FieldBuilder(const GridSpec& grid, const BuildParams& params);
  /// Builds a field from pieces of the same instance. Returns nothing when the result is below the
  /// minimum area or degenerates. Sets attributes area, perimeter, confidence, boundary_strength.
  std::optional<BuiltField> build(const std::vector<const Piece*>& pieces) const;
  /// Number of fields dropped for being smaller than the minimum area (for the summary).
  long long droppedSmall() const { return droppedSmall_; }

 private:
  GridSpec grid_;
  BuildParams params_;
  GeodesicMeasurer measurer_;
  double gsdM_ = 1;
  mutable long long droppedSmall_ = 0;
};

}  // namespace fieldseg::post
