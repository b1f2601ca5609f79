// Oracle fixtures for delineation tests (owner: delineate helper): a synthetic field layout as an
// instance raster, the probabilities a perfect model would give for it (same definitions as
// weak_labels: extent without the 4-connected inner edge, boundary = 3x3 dilation of that edge),
// and an identity Predictor that returns its (normalised) input bands as probabilities.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/predictor.hpp"
#include "fieldseg/raster.hpp"

namespace fieldseg::test {

/// Instance raster: rows x cols, 0 = background, else field id.
struct InstanceLayout {
  GridSpec grid;
  std::vector<std::int32_t> ids;
  std::int32_t maxId = 0;
};

/// A deterministic layout on a UTM grid (EPSG:32636, `gsdM` pixels): blocks separated by 3-pixel
/// roads, each split into touching parcels of varied size, an L-shaped field, a field with a hole
/// (a farmstead), diagonal-edged fields, and one field `bigPx` pixels wide (0 = none).
InstanceLayout makeLayout(int rows, int cols, double gsdM, std::uint64_t seed, int bigPx = 0);

/// extent, boundary, distance (3 bands, float 0/1, distance in [0, 1]) for the layout.
Raster<float> oracleProbabilities(const InstanceLayout& layout);

/// Writes a Float32 GeoTIFF of `r` (bands named as given) through GeoTiffWriter.
void writeRaster(const std::string& path, const Raster<float>& r,
                 const std::vector<std::string>& names);

/// Pixel-edge truth polygons of the layout (one per id, largest 4-connected part), in grid CRS.
FieldSet truthPolygons(const InstanceLayout& layout);

/// Returns its input bands 1-3, clamped to [0, 1], as (extent, boundary, distance).
class IdentityPredictor : public Predictor {
 public:
  explicit IdentityPredictor(std::vector<std::string> bands) : bands_(std::move(bands)) {}
  std::vector<std::string> inputBands() const override { return bands_; }
  std::vector<Raster<float>> predict(const std::vector<Raster<float>>& tiles) override;
  int maxConcurrency() const override { return 4; }

 private:
  std::vector<std::string> bands_;
};

}  // namespace fieldseg::test
