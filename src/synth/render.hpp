// Paints a Layout like a sensor, one horizontal strip at a time (internal to src/synth).
//
// A strip is rendered with a halo of rows above and below (for the blur) and only its core is
// returned. Every value is a pure function of (seed, pixel position), so strips are independent:
// render() is const and safe to call from several threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "fieldseg/raster.hpp"
#include "fieldseg/synth.hpp"
#include "layout.hpp"

namespace fieldseg::synth {

struct SensorSpec {
  double defaultGsdM = 1;
  bool byteOutput = true;  ///< NAIP: uint8 DN; else uint16 reflectance x 10000
  double blurSigmaPx = 0.6;
  double noiseRefl = 0.003;
};

SensorSpec sensorSpec(SensorProfile profile);

class StripRenderer {
 public:
  static constexpr int kStripRows = 256;  ///< = the GeoTIFF tile height: each strip completes tiles
  static constexpr int kHaloRows = 6;

  /// `bands`: spectral index of each output band (0 blue, 1 green, 2 red, 3 nir).
  StripRenderer(const Layout& layout, SensorProfile profile, std::vector<int> bands, double haze,
                std::uint64_t seed);

  int strips() const { return static_cast<int>(parcelsByStrip_.size()); }
  /// Renders strip `s`: `scene` gets bands x rows x width output values (DN / reflectance x 1e4,
  /// not yet rounded); `instances` (if not null) gets 1 x rows x width field ids (0 = not a field).
  void render(int s, Raster<float>& scene, Raster<float>* instances) const;

 private:
  void paintBase(int y0, int rows, std::vector<float>& refl,
                 std::vector<std::int32_t>& field) const;
  std::vector<std::int32_t> paintOwners(int y0, int rows, std::vector<std::int32_t>& field) const;
  void paintSurfaces(int y0, int rows, const std::vector<std::int32_t>& owner,
                     std::vector<float>& refl) const;
  void paintRoads(int y0, int rows, std::vector<float>& refl) const;
  void paintOverlays(int y0, int rows, std::vector<float>& refl) const;

  const Layout& layout_;
  SensorSpec sensor_;
  std::vector<int> bands_;
  double haze_;
  std::uint64_t seed_;
  std::vector<std::vector<int>> blocksByStrip_, parcelsByStrip_, treesByStrip_, housesByStrip_,
      roadsByStrip_;
};

}  // namespace fieldseg::synth
