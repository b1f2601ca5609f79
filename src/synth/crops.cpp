// Crops of the synthetic fields (crops.hpp).
#include "crops.hpp"

#include <algorithm>
#include <cmath>

namespace fieldseg::synth {

void assignLargeCrop(Parcel& p, V2 rowDir, Rng& rng) {
  Crop& c = p.crop;
  const double r = rng.uniform();
  c.soil = static_cast<float>(rng.uniform(0.85, 1.25));
  c.rowCos = static_cast<float>(rowDir.x);
  c.rowSin = static_cast<float>(rowDir.y);
  c.texScaleM = static_cast<float>(rng.uniform(40, 150));  // moisture / soil patches
  if (r < 0.38) {                                          // maize
    c.veg = static_cast<float>(rng.uniform(0.82, 0.97));
    c.sen = static_cast<float>(rng.uniform(0.0, 0.15));
    c.texAmp = 0.09f;
    c.headlandM = static_cast<float>(rng.uniform(8, 14));
    c.headlandVeg = c.veg * 0.7f;
  } else if (r < 0.70) {  // soybean
    c.vegBright = static_cast<float>(rng.uniform(1.05, 1.4));
    c.veg = static_cast<float>(rng.uniform(0.7, 0.95));
    c.sen = static_cast<float>(rng.uniform(0.0, 0.3));
    c.texAmp = 0.11f;
    c.rowPeriodM = 0.76f;
    c.headlandM = static_cast<float>(rng.uniform(6, 12));
    c.headlandVeg = c.veg * 0.8f;
  } else if (r < 0.82) {  // small grain, ripe or stubble
    c.vegBright = static_cast<float>(rng.uniform(1.0, 1.5));
    c.veg = static_cast<float>(rng.uniform(0.3, 0.8));
    c.sen = static_cast<float>(rng.uniform(0.7, 1.0));
    c.texAmp = 0.06f;
    c.rowPeriodM = static_cast<float>(rng.uniform(4, 8));
    c.rowAmp = 0.08f;
    c.tramPeriodM = static_cast<float>(rng.uniform(18, 24));
  } else if (r < 0.92) {  // bare, tilled
    c.veg = static_cast<float>(rng.uniform(0.0, 0.06));
    c.soil = static_cast<float>(rng.uniform(0.8, 1.9));
    c.texAmp = 0.04f;
    c.rowPeriodM = static_cast<float>(rng.uniform(3, 6));
    c.rowAmp = 0.06f;
  } else {  // hay / pasture
    c.vegBright = static_cast<float>(rng.uniform(1.1, 1.5));
    c.veg = static_cast<float>(rng.uniform(0.55, 0.8));
    c.sen = static_cast<float>(rng.uniform(0.2, 0.5));
    c.texAmp = 0.15f;
    c.texScaleM = static_cast<float>(rng.uniform(8, 20));
  }
}

void assignSmallCrop(Parcel& p, const Block& b, V2 rowDir, Rng& rng, std::uint64_t sceneSeed,
                     double g) {
  // Neighbours share the block's season and soil, so contrast between them stays low.
  Rng blockRng(b.seed);
  const double vegB = blockRng.uniform(0.55, 0.9), senB = blockRng.uniform(0.0, 0.25);
  const double soilB = blockRng.uniform(0.85, 1.2);
  // Valleys and hill tops: a slow regional swing of green cover (~500 m).
  const double region =
      valueNoise(mix64(sceneSeed ^ 0xAE61ull), 0.5 * (p.shape.minX + p.shape.maxX) * g / 500.0,
                 0.5 * (p.shape.minY + p.shape.maxY) * g / 500.0) -
      0.5;
  Crop& c = p.crop;
  c.rowCos = static_cast<float>(rowDir.x);
  c.rowSin = static_cast<float>(rowDir.y);
  c.rowPeriodM = static_cast<float>(rng.uniform(0.8, 1.5));
  c.rowAmp = 0.1f;
  c.texScaleM = static_cast<float>(rng.uniform(6, 15));
  c.bund = static_cast<float>(rng.uniform(0.12, 0.3));
  c.vegBright = static_cast<float>(rng.uniform(0.9, 1.2));
  if (rng.chance(0.12)) {  // fallow
    c.veg = static_cast<float>(rng.uniform(0.35, 0.6));
    c.sen = static_cast<float>(rng.uniform(0.4, 0.7));
    c.soil = static_cast<float>(soilB);
    c.texAmp = 0.2f;
    c.rowAmp = 0;
  } else {
    c.veg = static_cast<float>(std::clamp(rng.normal(vegB + 0.4 * region, 0.05), 0.02, 0.95));
    c.sen = static_cast<float>(std::clamp(rng.normal(senB, 0.08), 0.0, 1.0));
    c.soil = static_cast<float>(std::clamp(rng.normal(soilB, 0.06), 0.6, 1.5));
    c.texAmp = static_cast<float>(rng.uniform(0.03, 0.08));
  }
}

}  // namespace fieldseg::synth
