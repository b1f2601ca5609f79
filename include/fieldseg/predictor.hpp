// Predictor: batch of normalised image tiles -> per-pixel probabilities (extent, boundary,
// distance). The LibTorch model implements it (src/model); tests use an oracle built from ground
// truth. Implementations must be safe to call from several threads at once, or say they are not via
// maxConcurrency().
#pragma once

#include <string>
#include <vector>

#include "fieldseg/raster.hpp"

namespace fieldseg {

class Predictor {
 public:
  virtual ~Predictor() = default;
  /// Input band names the predictor expects, in order (e.g. red, green, blue).
  virtual std::vector<std::string> inputBands() const = 0;
  /// Each input tile has inputBands().size() normalised bands; each output has 3 bands
  /// (extent, boundary, distance) in [0, 1] on the same grid. All tiles in a batch share one size.
  virtual std::vector<Raster<float>> predict(const std::vector<Raster<float>>& tiles) = 0;
  /// How many predict() calls may run at once (1 = serialise).
  virtual int maxConcurrency() const { return 1; }
  /// Frees the working memory kept between predict() calls (the fused engine keeps each concurrent
  /// call's activation arena, so the next tile does not page-fault it in again); the next
  /// predict() allocates it again. Callers release it when their predictions are done.
  virtual void releaseWorkspace() {}
  /// What computed the last predictions (engine, precision, kernels) for run records; empty when
  /// the predictor does not say.
  virtual std::string kernels() const { return {}; }
};

}  // namespace fieldseg
