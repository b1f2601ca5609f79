// The synthetic cadastre: roads cut the scene into blocks, blocks get a land use, cropland blocks
// are split recursively into parcels, parcels become fields (or homesteads / scrub when their pixel
// area is outside the preset's range). Everything is drawn from one Rng in a fixed order, so the
// layout is a pure function of the parameters.
#include "layout.hpp"

#include <algorithm>
#include <cmath>

#include "crops.hpp"
#include "noise.hpp"
#include "polygon_ops.hpp"

namespace fieldseg::synth {
namespace {

struct Builder {
  const LayoutParams& prm;
  Layout& out;
  Rng rng;
  double g;  // metres per pixel

  Builder(const LayoutParams& p, Layout& o) : prm(p), out(o), rng(mix64(p.seed ^ 0x5EEDull)) {
    g = p.gsdM;
  }
  double px(double metres) const { return metres / g; }
  double ha(const Poly& p) const { return std::abs(signedArea(p)) * g * g / 1e4; }

  void addParcel(Poly p, int block, ParcelKind kind) {
    if (p.size() < 3) return;
    Parcel parcel;
    parcel.shape = ConvexShape(std::move(p));
    parcel.block = block;
    parcel.kind = kind;
    parcel.seed = rng.next();
    out.parcels.push_back(std::move(parcel));
  }

  int addBlock(Poly p, LandUse use) {
    Block b;
    b.shape = ConvexShape(std::move(p));
    b.use = use;
    b.seed = rng.next();
    const double r = rng.uniform();
    b.margin = r < 0.55 ? Margin::Grass : r < 0.85 ? Margin::Dirt : Margin::Hedge;
    if (use == LandUse::Water) {
      const ConvexShape& s = b.shape;
      b.lakeCx = 0.5 * (s.minX + s.maxX);
      b.lakeCy = 0.5 * (s.minY + s.maxY);
      const double half = 0.5 * std::min(s.maxX - s.minX, s.maxY - s.minY);
      b.lakeA = half * rng.uniform(0.55, 0.85);
      b.lakeB = b.lakeA * rng.uniform(0.5, 0.9);
      const double ang = rng.uniform(0, kPi);
      b.lakeCos = std::cos(ang);
      b.lakeSin = std::sin(ang);
    }
    out.blocks.push_back(std::move(b));
    return static_cast<int>(out.blocks.size()) - 1;
  }

  // ---- large fields: section roads (1 mile), fields of 2-50 ha, mostly rectangular ----------
  void subdivideLarge(const Poly& p, V2 u, V2 v, int block) {
    const double area = ha(p);
    const double target = rng.logUniform(6, 40);
    if (area <= target || area < 5.2) {
      addParcel(p, block, ParcelKind::Field);
      return;
    }
    double ulo, uhi, vlo, vhi;
    extent(p, u.x, u.y, ulo, uhi);
    extent(p, v.x, v.y, vlo, vhi);
    const bool longU = (uhi - ulo) >= (vhi - vlo);
    V2 n = (longU == rng.chance(0.8)) ? u : v;
    if (rng.chance(0.15)) n = rotate(n, rng.uniform(-0.3, 0.3));
    const double r = rng.uniform();
    double f = r < 0.5 ? 0.5 : r < 0.75 ? (rng.chance(0.5) ? 0.25 : 0.75) : rng.uniform(0.3, 0.7);
    if (f * area < 2.6 || (1 - f) * area < 2.6) f = 0.5;
    Poly a, b;
    splitPoly(p, n.x, n.y, f, px(rng.uniform(2.5, 6.0)), a, b);
    if (a.empty() || b.empty()) {
      addParcel(p, block, ParcelKind::Field);
      return;
    }
    subdivideLarge(a, u, v, block);
    subdivideLarge(b, u, v, block);
  }

  void largeFields() {
    const double w = prm.width, h = prm.height;
    const double theta = rng.chance(0.5) ? 0.0 : rng.uniform(-0.035, 0.035);
    const V2 u{std::cos(theta), std::sin(theta)}, v{-std::sin(theta), std::cos(theta)};
    const double spacing = px(1609.3);
    auto lines = [&](V2 axis) {
      double lo = 1e300, hi = -1e300;
      for (V2 c : {V2{0, 0}, V2{w, 0}, V2{0, h}, V2{w, h}}) {
        lo = std::min(lo, c.x * axis.x + c.y * axis.y);
        hi = std::max(hi, c.x * axis.x + c.y * axis.y);
      }
      std::vector<double> at;
      for (double t = lo - rng.uniform(0.1, 0.9) * spacing; t < hi + spacing;
           t += spacing * rng.uniform(0.97, 1.03))
        at.push_back(t);
      return at;
    };
    const std::vector<double> us = lines(u), vs = lines(v);
    const double reach = 2 * (w + h);
    for (double t : us)
      out.roads.push_back({{t * u.x - reach * v.x, t * u.y - reach * v.y},
                           {t * u.x + reach * v.x, t * u.y + reach * v.y},
                           px(rng.uniform(2.5, 3.5)),
                           true});
    for (double t : vs)
      out.roads.push_back({{t * v.x - reach * u.x, t * v.y - reach * u.y},
                           {t * v.x + reach * u.x, t * v.y + reach * u.y},
                           px(rng.uniform(2.5, 3.5)),
                           true});
    for (size_t i = 0; i + 1 < us.size(); ++i) {
      for (size_t j = 0; j + 1 < vs.size(); ++j) {
        const double hw = 0.5 * px(rng.uniform(8, 12));
        auto corner = [&](double a, double b) { return V2{a * u.x + b * v.x, a * u.y + b * v.y}; };
        Poly cell = {corner(us[i] + hw, vs[j] + hw), corner(us[i + 1] - hw, vs[j] + hw),
                     corner(us[i + 1] - hw, vs[j + 1] - hw), corner(us[i] + hw, vs[j + 1] - hw)};
        // A quarter of the sections have a half-mile road through them.
        std::vector<Poly> pieces{cell};
        if (rng.chance(0.25)) {
          Poly a, b;
          const V2 n = rng.chance(0.5) ? u : v;
          const double c =
              splitPoly(cell, n.x, n.y, rng.uniform(0.45, 0.55), px(rng.uniform(7, 10)), a, b);
          Road road;
          road.hw = px(rng.uniform(2.5, 3.5));
          if (chord(cell, n.x, n.y, c, road.a, road.b)) out.roads.push_back(road);
          pieces = {a, b};
        }
        for (Poly& piece : pieces) {
          piece = clipToScene(piece, w, h);
          if (piece.empty()) continue;
          const double r = rng.uniform();
          const LandUse use = r < 0.08   ? LandUse::Forest
                              : r < 0.10 ? LandUse::Water
                              : r < 0.11 ? LandUse::Village
                                         : LandUse::Cropland;
          const int block = addBlock(piece, use);
          if (use != LandUse::Cropland) continue;
          if (rng.chance(0.3) && ha(piece) > 40) {
            // A farmstead in one corner of the section: ~200 m x 150 m.
            double lo, hi;
            extent(piece, u.x, u.y, lo, hi);
            Poly strip, rest;
            splitPoly(piece, u.x, u.y, std::min(0.4, px(200) / (hi - lo)), px(3), strip, rest);
            double vlo, vhi;
            extent(strip, v.x, v.y, vlo, vhi);
            Poly yard, stripRest;
            if (!strip.empty() && vhi > vlo)
              splitPoly(strip, v.x, v.y, std::min(0.4, px(150) / (vhi - vlo)), px(3), yard,
                        stripRest);
            if (!yard.empty() && !stripRest.empty() && !rest.empty()) {
              addParcel(yard, block, ParcelKind::Homestead);
              subdivideLarge(stripRest, u, v, block);
              subdivideLarge(rest, u, v, block);
              continue;
            }
          }
          subdivideLarge(piece, u, v, block);
        }
      }
    }
  }

  // ---- smallholder: irregular road/track network, strip fields of 0.05-1 ha ------------------
  void subdivideSmall(const Poly& p, V2 d, int block) {
    const double area = ha(p);
    const double minHa = 0.065;
    const double target = rng.logUniform(0.09, 0.8);
    if (area <= target || area < 2.2 * minHa) {
      addParcel(p, block, ParcelKind::Field);
      return;
    }
    const V2 e{-d.y, d.x};
    double dlo, dhi, elo, ehi;
    extent(p, d.x, d.y, dlo, dhi);
    extent(p, e.x, e.y, elo, ehi);
    const double aspect = (dhi - dlo) / std::max(1e-9, ehi - elo);
    V2 n = aspect > rng.uniform(1.8, 5.0) ? d : e;
    n = rotate(n, rng.uniform(-0.12, 0.12));
    double f = rng.uniform(0.3, 0.7);
    f = std::clamp(f, 1.1 * minHa / area, 1 - 1.1 * minHa / area);
    Poly a, b;
    splitPoly(p, n.x, n.y, f, std::max(0.02, px(rng.uniform(0.3, 0.8))), a, b);
    if (a.empty() || b.empty()) {
      addParcel(p, block, ParcelKind::Field);
      return;
    }
    subdivideSmall(a, d, block);
    subdivideSmall(b, d, block);
  }

  void splitBlocks(const Poly& p) {
    const double area = ha(p);
    if (area <= rng.logUniform(12, 50)) {
      const double r = rng.uniform();
      const LandUse use = r < 0.05   ? LandUse::Forest
                          : r < 0.07 ? LandUse::Water
                          : r < 0.11 ? LandUse::Village
                          : r < 0.18 ? LandUse::Scrub
                                     : LandUse::Cropland;
      const int block = addBlock(p, use);
      if (use == LandUse::Cropland) {
        const double a = rng.uniform(0, kPi);
        subdivideSmall(p, {std::cos(a), std::sin(a)}, block);
      }
      return;
    }
    double xlo, xhi, ylo, yhi;
    extent(p, 1, 0, xlo, xhi);
    extent(p, 0, 1, ylo, yhi);
    V2 n = (xhi - xlo) >= (yhi - ylo) ? V2{1, 0} : V2{0, 1};
    n = rotate(n, rng.uniform(-0.3, 0.3));
    const bool main = area > 250;
    const double gap = main ? rng.uniform(7, 10) : rng.uniform(2, 3.5);
    Poly a, b;
    const double c = splitPoly(p, n.x, n.y, rng.uniform(0.35, 0.65), px(gap), a, b);
    Road road;
    road.main = main;
    road.hw = px(main ? rng.uniform(2.5, 3.5) : rng.uniform(0.5, 1.0));
    if (chord(p, n.x, n.y, c, road.a, road.b)) out.roads.push_back(road);
    if (!a.empty()) splitBlocks(a);
    if (!b.empty()) splitBlocks(b);
  }

  void smallholder() {
    const double w = prm.width, h = prm.height;
    splitBlocks({{0, 0}, {w, 0}, {w, h}, {0, h}});
  }

  // ---- after the geometry: pixel ownership, kinds, crops, trees, houses ----------------------
  void keepRowChain(Parcel& p) {
    const int r0 = std::max(0, static_cast<int>(std::floor(p.shape.minY)) - 1);
    const int r1 = std::min(prm.height - 1, static_cast<int>(std::ceil(p.shape.maxY)) + 1);
    long long best = 0, cur = 0;
    int bestStart = 0, bestEnd = -1, curStart = 0;
    int pc0 = 0, pc1 = 0;
    bool prev = false;
    for (int r = r0; r <= r1; ++r) {
      int c0 = 0, c1 = 0;
      const bool has = shapeRun(p.shape, r, prm.width, c0, c1);
      if (has && prev && c0 < pc1 && pc0 < c1) {
        cur += c1 - c0;
      } else if (has) {
        cur = c1 - c0;
        curStart = r;
      } else {
        cur = 0;
      }
      if (has && cur > best) {
        best = cur;
        bestStart = curStart;
        bestEnd = r;
      }
      prev = has;
      pc0 = c0;
      pc1 = c1;
    }
    p.rowStart = bestStart;
    p.rowEnd = bestEnd;
    p.pixels = best;
  }

  void addTree(double x, double y, double radiusM) {
    Tree t;
    t.x = x;
    t.y = y;
    t.r = px(radiusM);
    t.tone = static_cast<float>(rng.uniform(0.75, 1.2));
    out.trees.push_back(t);
  }

  void addHouse(double cx, double cy, double wM, double hM, double angle) {
    House hs;
    hs.cx = cx;
    hs.cy = cy;
    hs.hw = 0.5 * px(wM);
    hs.hh = 0.5 * px(hM);
    hs.cosA = std::cos(angle);
    hs.sinA = std::sin(angle);
    const double r = rng.uniform();
    hs.roof = prm.preset == SynthPreset::Smallholder ? (r < 0.55  ? 0
                                                        : r < 0.8 ? 1
                                                                  : 3)
                                                     : (r < 0.4   ? 0
                                                        : r < 0.7 ? 2
                                                                  : 1);
    out.houses.push_back(hs);
  }

  /// Trees along an edge of a shape, just outside it (hedges, boundary trees).
  void treesAlongEdge(const ConvexShape& s, size_t edge, double spacingM, double rLo, double rHi,
                      int maxTrees) {
    const V2 a = s.poly[edge], b = s.poly[(edge + 1) % s.poly.size()];
    const double len = std::hypot(b.x - a.x, b.y - a.y);
    if (len < 1e-6) return;
    // Outward normal of this edge: the half-plane of the edge whose line passes through a and b.
    double nx = (b.y - a.y) / len, ny = -(b.x - a.x) / len;
    if (s.insideDistance(0.5 * (a.x + b.x) + nx, 0.5 * (a.y + b.y) + ny) > 0) {
      nx = -nx;
      ny = -ny;
    }
    const double step = px(spacingM);
    int n = 0;
    for (double t = rng.uniform(0.2, 1.0) * step; t < len && n < maxTrees;
         t += step * rng.uniform(0.7, 1.3), ++n) {
      const double x = a.x + (b.x - a.x) * t / len + nx * px(1.5);
      const double y = a.y + (b.y - a.y) * t / len + ny * px(1.5);
      addTree(x, y, rng.uniform(rLo, rHi));
    }
  }

  void decorate() {
    const bool small = prm.preset == SynthPreset::Smallholder;
    // Villages: houses (and trees) on a rotated, jittered grid inside the block.
    for (const Block& b : out.blocks) {
      const ConvexShape& s = b.shape;
      if (b.use == LandUse::Village) {
        const double spacing = px(small ? 22 : 32);
        const double ang = rng.uniform(0, kPi / 2);
        const V2 u{std::cos(ang), std::sin(ang)}, v{-std::sin(ang), std::cos(ang)};
        const double cx = 0.5 * (s.minX + s.maxX), cy = 0.5 * (s.minY + s.maxY);
        const double reach = 0.75 * std::hypot(s.maxX - s.minX, s.maxY - s.minY);
        for (double a = -reach; a <= reach; a += spacing) {
          for (double c = -reach; c <= reach; c += spacing) {
            const double x = cx + a * u.x + c * v.x + rng.uniform(-0.2, 0.2) * spacing;
            const double y = cy + a * u.y + c * v.y + rng.uniform(-0.2, 0.2) * spacing;
            const double hw = small ? rng.uniform(6, 11) : rng.uniform(10, 20);
            const double hh = small ? rng.uniform(5, 8) : rng.uniform(8, 14);
            if (s.insideDistance(x, y) < px(0.75 * hw)) continue;
            if (rng.chance(small ? 0.3 : 0.45))
              addHouse(x, y, hw, hh, ang + rng.uniform(-0.1, 0.1));
            if (rng.chance(0.35))
              addTree(x + 0.45 * spacing, y + 0.4 * spacing, rng.uniform(2, small ? 4 : 5.5));
          }
        }
      } else if (b.use == LandUse::Scrub || (b.use == LandUse::Water && small)) {
        const double densityM2 = small ? 500 : 1500;
        const int n = static_cast<int>(s.area() * prm.gsdM * prm.gsdM / densityM2);
        for (int i = 0; i < n; ++i) {
          const double x = rng.uniform(s.minX, s.maxX), y = rng.uniform(s.minY, s.maxY);
          if (s.insideDistance(x, y) > px(2)) addTree(x, y, rng.uniform(1.8, 4.5));
        }
      }
    }
    for (Parcel& p : out.parcels) {
      const Block& b = out.blocks[p.block];
      const ConvexShape& s = p.shape;
      const double cx = 0.5 * (s.minX + s.maxX), cy = 0.5 * (s.minY + s.maxY);
      if (p.kind == ParcelKind::Homestead) {
        const int houses =
            small ? 1 + (rng.chance(0.4) ? 1 : 0) : 2 + static_cast<int>(rng.uniform() * 4);
        const double ang = rng.uniform(0, kPi);
        for (int i = 0; i < houses; ++i) {
          const double x = cx + px(rng.uniform(-1, 1) * (small ? 6 : 30));
          const double y = cy + px(rng.uniform(-1, 1) * (small ? 6 : 30));
          addHouse(x, y, small ? rng.uniform(6, 10) : rng.uniform(10, 24),
                   small ? rng.uniform(5, 8) : rng.uniform(8, 14), ang);
        }
        if (small) {
          const int trees = 2 + static_cast<int>(rng.uniform() * 5);
          for (int i = 0; i < trees; ++i) {
            const double x = rng.uniform(s.minX, s.maxX), y = rng.uniform(s.minY, s.maxY);
            if (s.insideDistance(x, y) > 0) addTree(x, y, rng.uniform(2, 4.5));
          }
        } else {
          for (size_t e = 0; e < std::min<size_t>(2, s.poly.size()); ++e)
            treesAlongEdge(s, e, 5, 3, 5, 60);
        }
        continue;
      }
      if (p.kind != ParcelKind::Field) continue;
      if (!small && b.margin == Margin::Hedge) {
        for (size_t e = 0; e < s.poly.size(); ++e) treesAlongEdge(s, e, 7, 2.5, 4.5, 200);
      } else if (small && rng.chance(0.15)) {
        treesAlongEdge(s, static_cast<size_t>(rng.uniform() * s.poly.size()), 12, 2, 4.5,
                       1 + static_cast<int>(rng.uniform() * 4));
      }
    }
  }

  void finish() {
    const auto [minHa, maxHa] = presetAreaRangeHa(prm.preset);
    const double pixelHa = g * g / 1e4;
    const bool small = prm.preset == SynthPreset::Smallholder;
    for (Parcel& p : out.parcels) {
      keepRowChain(p);
      const double area = p.pixels * pixelHa;
      if (p.kind == ParcelKind::Field) {
        if (area < minHa || area > maxHa)
          p.kind = ParcelKind::Scrub;
        else if (small && area < 0.4 && rng.chance(0.05))
          p.kind = ParcelKind::Homestead;
      }
      // Rows run along the parcel's longest edge.
      const Poly& poly = p.shape.poly;
      double bestLen = -1;
      V2 dir{1, 0};
      for (size_t i = 0; i < poly.size(); ++i) {
        const V2 a = poly[i], b = poly[(i + 1) % poly.size()];
        const double len = std::hypot(b.x - a.x, b.y - a.y);
        if (len > bestLen) {
          bestLen = len;
          dir = {-(b.y - a.y) / len, (b.x - a.x) / len};  // across the rows
        }
      }
      if (p.kind == ParcelKind::Field) {
        if (small)
          assignSmallCrop(p, out.blocks[p.block], dir, rng, prm.seed, g);
        else
          assignLargeCrop(p, dir, rng);
      }
    }
    // Field ids in reading order (top row, then left column): stable and local in the output.
    std::vector<int> order;
    for (size_t i = 0; i < out.parcels.size(); ++i)
      if (out.parcels[i].kind == ParcelKind::Field) order.push_back(static_cast<int>(i));
    auto key = [&](int i) {
      const Parcel& p = out.parcels[i];
      int c0 = 0, c1 = 0;
      parcelRun(p, p.rowStart, prm.width, c0, c1);
      return std::make_pair(p.rowStart, c0);
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
    for (size_t k = 0; k < order.size(); ++k)
      out.parcels[order[k]].id = static_cast<std::int32_t>(k + 1);
    out.fieldParcel = std::move(order);
  }
};

}  // namespace

Layout buildLayout(const LayoutParams& params) {
  Layout out;
  out.params = params;
  Builder b(params, out);
  if (params.preset == SynthPreset::LargeFields)
    b.largeFields();
  else
    b.smallholder();
  b.finish();
  b.decorate();
  return out;
}

}  // namespace fieldseg::synth
