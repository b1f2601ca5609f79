// Pixel painting: surface reflectance from linear mixtures of soil / green / senescent vegetation
// end-members (vegetation bright in NIR), per-class textures, row stripes, headlands and bunds,
// tree crowns and houses with shadows, then haze, sensor blur (Gaussian PSF), noise and the
// profile's value range. Reflectances are typical values from field spectra, not a calibration.
#include "render.hpp"

#include <algorithm>
#include <cmath>

#include "noise.hpp"
#include "raster_ops.hpp"

namespace fieldseg::synth {
namespace {

using Spec = std::array<float, 4>;  // blue, green, red, nir reflectance

constexpr Spec kGreen{0.030f, 0.070f, 0.035f, 0.42f};
constexpr Spec kSenescent{0.075f, 0.105f, 0.135f, 0.27f};
constexpr Spec kSoilDark{0.065f, 0.085f, 0.110f, 0.16f};  // Midwest mollisol
constexpr Spec kSoilRed{0.075f, 0.100f, 0.155f, 0.22f};   // tropical red soil
constexpr Spec kGrass{0.045f, 0.075f, 0.065f, 0.30f};
constexpr Spec kDryGrass{0.070f, 0.100f, 0.120f, 0.26f};
constexpr Spec kWetland{0.040f, 0.070f, 0.050f, 0.22f};
constexpr Spec kGravel{0.130f, 0.145f, 0.160f, 0.21f};
constexpr Spec kDirtRed{0.095f, 0.120f, 0.160f, 0.24f};
constexpr Spec kForest{0.026f, 0.052f, 0.034f, 0.32f};
constexpr Spec kCrown{0.025f, 0.055f, 0.032f, 0.33f};
constexpr Spec kWater{0.045f, 0.055f, 0.035f, 0.015f};
constexpr Spec kRoofs[4] = {{0.30f, 0.32f, 0.33f, 0.34f},   // metal
                            {0.09f, 0.10f, 0.15f, 0.19f},   // rusted metal
                            {0.08f, 0.085f, 0.16f, 0.22f},  // tiles
                            {0.10f, 0.12f, 0.15f, 0.21f}};  // thatch
constexpr Spec kHazePath{0.11f, 0.09f, 0.07f, 0.05f};
// Shadows fall to the north-west (sun in the south-east, late morning, northern hemisphere).
constexpr double kShadowX = -0.55, kShadowY = -0.75;

inline Spec mix(const Spec& a, const Spec& b, float t) {
  return {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t,
          a[3] + (b[3] - a[3]) * t};
}
inline Spec scale(const Spec& a, float s) { return {a[0] * s, a[1] * s, a[2] * s, a[3] * s}; }
inline float clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }
inline float smoothstep(float a, float b, float x) {
  const float t = clamp01((x - a) / (b - a));
  return t * t * (3 - 2 * t);
}

struct Ctx {
  bool small;
  double g;
  const Spec& soil() const { return small ? kSoilRed : kSoilDark; }
  const Spec& dirt() const { return small ? kDirtRed : kGravel; }
};

Spec grassAt(std::uint64_t seed, double xm, double ym) {
  return mix(kGrass, kDryGrass, fbm2(seed, xm / 12.0, ym / 12.0));
}

Spec scrubAt(std::uint64_t seed, double xm, double ym) {
  const float t = fbm2(seed + 3, xm / 9.0, ym / 9.0);
  return mix(grassAt(seed, xm, ym), kForest, smoothstep(0.55f, 0.75f, t));
}

Spec yardAt(const Ctx& cx, std::uint64_t seed, double xm, double ym) {
  // Compacted earth between gardens and grass: mostly green, bare patches where t is low.
  const float t = fbm2(seed, xm / 15.0, ym / 15.0);
  return mix(scale(cx.dirt(), 0.85f), grassAt(seed + 5, xm, ym), smoothstep(0.25f, 0.5f, t));
}

Spec forestAt(std::uint64_t seed, double xm, double ym) {
  const float crowns = valueNoise(seed, xm / 4.5, ym / 4.5);
  const float stand = valueNoise(seed + 7, xm / 40.0, ym / 40.0);
  return scale(kForest, (0.55f + 0.8f * crowns) * (0.85f + 0.3f * stand));
}

Spec fieldAt(const Ctx& cx, const Parcel& p, double xc, double yc) {
  const Crop& c = p.crop;
  const double xm = xc * cx.g, ym = yc * cx.g;
  float v = c.veg + 2 * c.texAmp * (fbm2(p.seed, xm / c.texScaleM, ym / c.texScaleM) - 0.5f);
  float soilMul = c.soil * (0.94f + 0.12f * valueNoise(p.seed + 11, xm / 50.0, ym / 50.0));
  const double across = xm * c.rowCos + ym * c.rowSin;
  // Rows and furrows only show where the sensor resolves them (period > 2.5 pixels).
  if (c.rowAmp > 0 && c.rowPeriodM > 2.5 * cx.g) {
    const float s = static_cast<float>(std::sin(6.283185307179586 * across / c.rowPeriodM));
    v += c.rowAmp * s;
    soilMul *= 1 + 0.5f * c.rowAmp * s;
  }
  if (c.tramPeriodM > 0) {
    const double ph = across / c.tramPeriodM - std::floor(across / c.tramPeriodM);
    const double distM = std::min(ph, 1 - ph) * c.tramPeriodM;
    const float w = clamp01(static_cast<float>(1 - distM / cx.g)) *
                    std::min(1.0f, static_cast<float>(0.6 / cx.g));
    v -= 0.6f * w * v;
  }
  const float d = static_cast<float>(p.shape.insideDistance(xc, yc) * cx.g);  // metres to edge
  if (c.headlandM > 0 && d < c.headlandM) v += (c.headlandVeg - v) * 0.8f * (1 - d / c.headlandM);
  v = clamp01(v);
  const Spec veg = scale(mix(kGreen, kSenescent, c.sen), c.vegBright);
  Spec out = mix(scale(cx.soil(), soilMul), veg, v);
  // Bunds: a faint grass line on the outermost ring of pixels of touching fields.
  // Canopy and clod grain: pixel-scale texture that only a sub-2 m sensor resolves.
  const float grain = cx.g <= 2 ? 0.07f : 0.02f;
  out = scale(
      out, 1 + grain * gauss4(static_cast<std::uint32_t>(hash3(
                           p.seed, static_cast<std::int64_t>(xc), static_cast<std::int64_t>(yc)))));
  const float halfPx = static_cast<float>(0.5 * cx.g);
  if (c.bund > 0 && d < halfPx) out = mix(out, kGrass, c.bund * (1 - d / halfPx));
  return out;
}

}  // namespace

SensorSpec sensorSpec(SensorProfile profile) {
  switch (profile) {
    case SensorProfile::Naip:
      return {1.0, true, 0.55, 0.004};
    case SensorProfile::PlanetScope:
      return {3.0, false, 1.3, 0.0015};
    case SensorProfile::Sentinel2:
      return {10.0, false, 0.6, 0.002};
  }
  return {};
}

StripRenderer::StripRenderer(const Layout& layout, SensorProfile profile, std::vector<int> bands,
                             double haze, std::uint64_t seed)
    : layout_(layout),
      sensor_(sensorSpec(profile)),
      bands_(std::move(bands)),
      haze_(haze),
      seed_(mix64(seed ^ 0xC0FFEEull)) {
  const int h = layout.params.height;
  const int n = (h + kStripRows - 1) / kStripRows;
  blocksByStrip_.resize(n);
  parcelsByStrip_.resize(n);
  treesByStrip_.resize(n);
  housesByStrip_.resize(n);
  roadsByStrip_.resize(n);
  // Each item goes into every strip whose rows plus halo it touches.
  auto bucket = [&](std::vector<std::vector<int>>& by, int index, double minY, double maxY) {
    const int lo = static_cast<int>(std::floor((minY - kHaloRows - 1) / kStripRows));
    const int hi = static_cast<int>(std::floor((maxY + kHaloRows + 1) / kStripRows));
    for (int s = std::max(0, lo); s <= std::min(n - 1, hi); ++s) by[s].push_back(index);
  };
  for (size_t i = 0; i < layout.blocks.size(); ++i)
    bucket(blocksByStrip_, static_cast<int>(i), layout.blocks[i].shape.minY,
           layout.blocks[i].shape.maxY);
  for (size_t i = 0; i < layout.parcels.size(); ++i) {
    const Parcel& p = layout.parcels[i];
    if (p.rowEnd >= p.rowStart)
      bucket(parcelsByStrip_, static_cast<int>(i), p.rowStart, p.rowEnd + 1);
  }
  for (size_t i = 0; i < layout.trees.size(); ++i) {
    const Tree& t = layout.trees[i];
    const double sy = t.y + kShadowY * 1.3 * t.r;
    bucket(treesByStrip_, static_cast<int>(i), std::min(t.y, sy) - t.r, std::max(t.y, sy) + t.r);
  }
  for (size_t i = 0; i < layout.roads.size(); ++i) {
    const Road& r = layout.roads[i];
    bucket(roadsByStrip_, static_cast<int>(i), std::min(r.a.y, r.b.y) - r.hw - 1,
           std::max(r.a.y, r.b.y) + r.hw + 1);
  }
  for (size_t i = 0; i < layout.houses.size(); ++i) {
    const House& hs = layout.houses[i];
    const double reach = hs.hw + hs.hh + 4 / layout.params.gsdM;
    bucket(housesByStrip_, static_cast<int>(i), hs.cy - reach, hs.cy + reach);
  }
}

// The rows y0 .. y0 + rows of strip s's base image: who owns each pixel (blocks, parcels, roads),
// its surface, then roads and the overlays (shadows, crowns, roofs) on top.
void StripRenderer::paintBase(int y0, int rows, std::vector<float>& refl,
                              std::vector<std::int32_t>& field) const {
  const std::vector<std::int32_t> owner = paintOwners(y0, rows, field);
  paintSurfaces(y0, rows, owner, refl);
  paintRoads(y0, rows, refl);
  paintOverlays(y0, rows, refl);
}

// Owner of each pixel: -1 road, else (block index << 1) or (parcel index << 1 | 1); `field` gets
// the field ids.
std::vector<std::int32_t> StripRenderer::paintOwners(int y0, int rows,
                                                     std::vector<std::int32_t>& field) const {
  const int w = layout_.params.width;
  const int s = std::min(strips() - 1, (y0 + kHaloRows) / kStripRows);
  const size_t plane = static_cast<size_t>(rows) * w;
  std::vector<std::int32_t> owner(plane, -1);
  for (int bi : blocksByStrip_[s]) {
    const ConvexShape& sh = layout_.blocks[bi].shape;
    const int r0 = std::max(y0, static_cast<int>(std::floor(sh.minY)) - 1);
    const int r1 = std::min(y0 + rows, static_cast<int>(std::ceil(sh.maxY)) + 1);
    for (int r = r0; r < r1; ++r) {
      int c0, c1;
      if (!shapeRun(sh, r, w, c0, c1)) continue;
      std::fill(owner.begin() + static_cast<size_t>(r - y0) * w + c0,
                owner.begin() + static_cast<size_t>(r - y0) * w + c1, bi << 1);
    }
  }
  for (int pi : parcelsByStrip_[s]) {
    const Parcel& p = layout_.parcels[pi];
    const int r0 = std::max(y0, p.rowStart), r1 = std::min(y0 + rows, p.rowEnd + 1);
    for (int r = r0; r < r1; ++r) {
      int c0, c1;
      if (!parcelRun(p, r, w, c0, c1)) continue;
      const size_t at = static_cast<size_t>(r - y0) * w;
      std::fill(owner.begin() + at + c0, owner.begin() + at + c1, (pi << 1) | 1);
      if (p.kind == ParcelKind::Field)
        std::fill(field.begin() + at + c0, field.begin() + at + c1, p.id);
    }
  }

  return owner;
}

void StripRenderer::paintSurfaces(int y0, int rows, const std::vector<std::int32_t>& owner,
                                  std::vector<float>& refl) const {
  const int w = layout_.params.width;
  const Ctx cx{layout_.params.preset == SynthPreset::Smallholder, layout_.params.gsdM};
  const size_t plane = static_cast<size_t>(rows) * w;
  const std::uint64_t roadSeed = seed_ + 101;
  for (int r = 0; r < rows; ++r) {
    const double yc = y0 + r + 0.5;
    for (int c = 0; c < w; ++c) {
      const size_t i = static_cast<size_t>(r) * w + c;
      const double xc = c + 0.5;
      const double xm = xc * cx.g, ym = yc * cx.g;
      const std::int32_t o = owner[i];
      Spec v;
      if (o < 0) {
        v = grassAt(roadSeed, xm, ym);  // verges; the roads are painted on top below
      } else if (o & 1) {
        const Parcel& p = layout_.parcels[o >> 1];
        if (p.kind == ParcelKind::Field)
          v = fieldAt(cx, p, xc, yc);
        else if (p.kind == ParcelKind::Homestead)
          v = yardAt(cx, p.seed, xm, ym);
        else
          v = scrubAt(p.seed, xm, ym);
      } else {
        const Block& b = layout_.blocks[o >> 1];
        switch (b.use) {
          case LandUse::Cropland:
            v = b.margin == Margin::Dirt && !cx.small ? cx.dirt() : grassAt(b.seed, xm, ym);
            break;
          case LandUse::Forest:
            v = forestAt(b.seed, xm, ym);
            break;
          case LandUse::Water: {
            const double dx = xc - b.lakeCx, dy = yc - b.lakeCy;
            const double lx = (dx * b.lakeCos + dy * b.lakeSin) / b.lakeA;
            const double ly = (-dx * b.lakeSin + dy * b.lakeCos) / b.lakeB;
            const double shore = 1 + 0.5 * (valueNoise(b.seed, xm / 60.0, ym / 60.0) - 0.5);
            if (lx * lx + ly * ly < shore * shore)
              v = scale(kWater, 0.9f + 0.25f * valueNoise(b.seed + 1, xm / 80.0, ym / 80.0));
            else
              v = mix(kWetland, grassAt(b.seed, xm, ym), 0.5f);
            break;
          }
          case LandUse::Village:
            v = yardAt(cx, b.seed, xm, ym);
            break;
          case LandUse::Scrub:
          default:
            v = scrubAt(b.seed, xm, ym);
            break;
        }
      }
      for (int k = 0; k < 4; ++k) refl[k * plane + i] = v[k];
    }
  }
}

// Roads and paths: thick segments over the gaps between blocks, antialiased.
void StripRenderer::paintRoads(int y0, int rows, std::vector<float>& refl) const {
  const int w = layout_.params.width;
  const Ctx cx{layout_.params.preset == SynthPreset::Smallholder, layout_.params.gsdM};
  const int s = std::min(strips() - 1, (y0 + kHaloRows) / kStripRows);
  const size_t plane = static_cast<size_t>(rows) * w;
  const std::uint64_t roadSeed = seed_ + 101;
  const int rowEnd = y0 + rows;
  for (int ri : roadsByStrip_[s]) {
    const Road& rd = layout_.roads[ri];
    const double dx = rd.b.x - rd.a.x, dy = rd.b.y - rd.a.y, len = std::hypot(dx, dy);
    if (len < 1e-9) continue;
    const double nx = -dy / len, ny = dx / len, c = nx * rd.a.x + ny * rd.a.y;
    const double reach = rd.hw + 1;
    const int r0 = std::max(y0, static_cast<int>(std::floor(std::min(rd.a.y, rd.b.y) - reach)));
    const int r1 = std::min(rowEnd, static_cast<int>(std::ceil(std::max(rd.a.y, rd.b.y) + reach)));
    const Spec& surface = rd.main ? cx.dirt() : kDirtRed;
    for (int r = r0; r < r1; ++r) {
      const double yc = r + 0.5;
      double xa = std::min(rd.a.x, rd.b.x) - reach, xb = std::max(rd.a.x, rd.b.x) + reach;
      if (std::abs(nx) > 1e-9) {  // where the infinite line is within reach of this row
        const double e1 = (c - ny * yc - reach) / nx, e2 = (c - ny * yc + reach) / nx;
        xa = std::max(xa, std::min(e1, e2) - 1);
        xb = std::min(xb, std::max(e1, e2) + 1);
      }
      const int c0 = std::max(0, static_cast<int>(std::floor(xa)));
      const int c1 = std::min(w, static_cast<int>(std::ceil(xb)));
      for (int col = c0; col < c1; ++col) {
        const double px = col + 0.5 - rd.a.x, py = yc - rd.a.y;
        const double t = std::clamp((px * dx + py * dy) / (len * len), 0.0, 1.0);
        const double d = std::hypot(px - t * dx, py - t * dy);
        const float cov = clamp01(static_cast<float>(rd.hw + 0.5 - d));
        if (cov <= 0) continue;
        const size_t i = static_cast<size_t>(r - y0) * w + col;
        const float tone =
            0.93f + 0.14f * valueNoise(roadSeed, (col + 0.5) * cx.g / 6.0, yc * cx.g / 6.0);
        for (int k = 0; k < 4; ++k)
          refl[k * plane + i] += (surface[k] * tone - refl[k * plane + i]) * cov;
      }
    }
  }
}

// Overlays: all shadows first, then crowns and roofs on top.
void StripRenderer::paintOverlays(int y0, int rows, std::vector<float>& refl) const {
  const int w = layout_.params.width;
  const Ctx cx{layout_.params.preset == SynthPreset::Smallholder, layout_.params.gsdM};
  const int s = std::min(strips() - 1, (y0 + kHaloRows) / kStripRows);
  const size_t plane = static_cast<size_t>(rows) * w;
  const int rowEnd = y0 + rows;
  auto forDisc = [&](double cxp, double cyp, double rad, auto&& fn) {
    const int r0 = std::max(y0, static_cast<int>(std::floor(cyp - rad - 1)));
    const int r1 = std::min(rowEnd, static_cast<int>(std::ceil(cyp + rad + 1)));
    const int c0 = std::max(0, static_cast<int>(std::floor(cxp - rad - 1)));
    const int c1 = std::min(w, static_cast<int>(std::ceil(cxp + rad + 1)));
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c) {
        const double dx = c + 0.5 - cxp, dy = r + 0.5 - cyp, d = std::hypot(dx, dy);
        const float cov = clamp01(static_cast<float>(rad + 0.5 - d));
        if (cov > 0) fn(static_cast<size_t>(r - y0) * w + c, cov, dx, dy, d);
      }
  };
  auto forRect = [&](const House& hs, double ox, double oy, auto&& fn) {
    const double reach = hs.hw + hs.hh + 1;
    const double cxp = hs.cx + ox, cyp = hs.cy + oy;
    const int r0 = std::max(y0, static_cast<int>(std::floor(cyp - reach)));
    const int r1 = std::min(rowEnd, static_cast<int>(std::ceil(cyp + reach)));
    const int c0 = std::max(0, static_cast<int>(std::floor(cxp - reach)));
    const int c1 = std::min(w, static_cast<int>(std::ceil(cxp + reach)));
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c) {
        const double dx = c + 0.5 - cxp, dy = r + 0.5 - cyp;
        const double lx = dx * hs.cosA + dy * hs.sinA, ly = -dx * hs.sinA + dy * hs.cosA;
        const float cov = clamp01(static_cast<float>(hs.hw + 0.5 - std::abs(lx))) *
                          clamp01(static_cast<float>(hs.hh + 0.5 - std::abs(ly)));
        if (cov > 0) fn(static_cast<size_t>(r - y0) * w + c, cov, ly);
      }
  };
  auto darken = [&](size_t i, float amount) {
    for (int k = 0; k < 4; ++k) refl[k * plane + i] *= 1 - amount;
  };
  for (int ti : treesByStrip_[s]) {
    const Tree& t = layout_.trees[ti];
    forDisc(t.x + kShadowX * 1.3 * t.r, t.y + kShadowY * 1.3 * t.r, t.r,
            [&](size_t i, float cov, double, double, double) { darken(i, 0.45f * cov); });
  }
  const double houseShadow = 3.0 / cx.g;
  for (int hi : housesByStrip_[s]) {
    const House& hs = layout_.houses[hi];
    forRect(hs, kShadowX * houseShadow, kShadowY * houseShadow,
            [&](size_t i, float cov, double) { darken(i, 0.5f * cov); });
  }
  for (int ti : treesByStrip_[s]) {
    const Tree& t = layout_.trees[ti];
    const float sub = std::min(1.0f, static_cast<float>(3.14159 * t.r * t.r));
    forDisc(t.x, t.y, t.r, [&](size_t i, float cov, double dx, double dy, double d) {
      const float lit =
          static_cast<float>(0.75 + 0.35 * (1 - d / std::max(t.r, 0.5)) -
                             0.15 * (dx * kShadowX + dy * kShadowY) / std::max(t.r, 0.5));
      const Spec crown = scale(kCrown, t.tone * lit);
      const float a = cov * sub;
      for (int k = 0; k < 4; ++k) refl[k * plane + i] += (crown[k] - refl[k * plane + i]) * a;
    });
  }
  for (int hi : housesByStrip_[s]) {
    const House& hs = layout_.houses[hi];
    forRect(hs, 0, 0, [&](size_t i, float cov, double ly) {
      const Spec roof = scale(kRoofs[hs.roof], ly > 0 ? 0.85f : 1.0f);  // gable: one side shaded
      for (int k = 0; k < 4; ++k) refl[k * plane + i] += (roof[k] - refl[k * plane + i]) * cov;
    });
  }
}

void StripRenderer::render(int s, Raster<float>& scene, Raster<float>* instances) const {
  const int w = layout_.params.width, h = layout_.params.height;
  const int y0 = s * kStripRows, y1 = std::min(h, y0 + kStripRows);
  const int ry0 = std::max(0, y0 - kHaloRows), ry1 = std::min(h, y1 + kHaloRows);
  const int rows = ry1 - ry0;
  const size_t plane = static_cast<size_t>(rows) * w;
  std::vector<float> refl(4 * plane);
  std::vector<std::int32_t> field(plane, 0);
  paintBase(ry0, rows, refl, field);

  const double g = layout_.params.gsdM;
  if (haze_ > 0) {
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < w; ++c) {
        const size_t i = static_cast<size_t>(r) * w + c;
        const float t =
            static_cast<float>(haze_ * (0.5 + 0.5 * valueNoise(seed_ + 501, (c + 0.5) * g / 2500.0,
                                                               (ry0 + r + 0.5) * g / 2500.0)));
        for (int k = 0; k < 4; ++k)
          refl[k * plane + i] = refl[k * plane + i] * (1 - 0.3f * t) + kHazePath[k] * t;
      }
  }
  // Sensor point-spread function.
  const double sigma = sensor_.blurSigmaPx;
  const int ksize = 2 * static_cast<int>(std::ceil(3 * sigma)) + 1;
  for (int k = 0; k < 4; ++k)
    post::gaussianBlurInPlace(refl.data() + k * plane, rows, w, sigma, ksize);

  const int outRows = y1 - y0;
  const int nb = static_cast<int>(bands_.size());
  scene = Raster<float>(nb, outRows, w);
  if (instances) *instances = Raster<float>(1, outRows, w);
  const float noise = static_cast<float>(sensor_.noiseRefl);
  for (int r = 0; r < outRows; ++r) {
    const int y = y0 + r;
    const size_t src = static_cast<size_t>(y - ry0) * w;
    for (int c = 0; c < w; ++c) {
      const std::uint64_t h1 = hash3(seed_, y, c), h2 = mix64(h1);
      const float n[4] = {
          gauss4(static_cast<std::uint32_t>(h1)), gauss4(static_cast<std::uint32_t>(h1 >> 32)),
          gauss4(static_cast<std::uint32_t>(h2)), gauss4(static_cast<std::uint32_t>(h2 >> 32))};
      for (int b = 0; b < nb; ++b) {
        const int k = bands_[b];
        const float v = refl[k * plane + src + c] + noise * n[k];
        float out;
        if (sensor_.byteOutput)
          out = k == 3 ? 20 + 450 * v : 40 + 850 * v;  // NAIP-like DN
        else
          out = 10000 * v;
        const float hi = sensor_.byteOutput ? 255.0f : 65535.0f;
        scene.at(b, r, c) = std::min(hi, std::max(1.0f, out));
      }
      if (instances) instances->at(0, r, c) = static_cast<float>(field[src + c]);
    }
  }
}

}  // namespace fieldseg::synth
