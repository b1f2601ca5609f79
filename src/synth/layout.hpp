// The synthetic cadastre (internal to src/synth): blocks bounded by roads, parcels inside them,
// trees and houses, all in pixel units (x = column, y = row, y down; pixel (c, r) covers
// [c, c+1) x [r, r+1)).
//
// Ownership of pixels is decided ONCE, here, by parcelRun(): a pixel belongs to a parcel when its
// centre lies in the parcel's convex polygon and its row is in the parcel's kept row chain. Parcels
// are disjoint closed sets (every split leaves a gap > 0), so no pixel has two owners; painting and
// the truth polygons both call parcelRun(), which is what makes the truth exact.
#pragma once

#include <cstdint>
#include <vector>

#include "fieldseg/synth.hpp"

namespace fieldseg::synth {

struct V2 {
  double x = 0, y = 0;
};
using Poly = std::vector<V2>;

/// A convex polygon with its half-planes (inside: nx*x + ny*y <= c, (nx, ny) unit outward normal).
struct ConvexShape {
  struct Edge {
    double nx, ny, c;
  };
  Poly poly;
  std::vector<Edge> edges;
  double minX = 0, minY = 0, maxX = 0, maxY = 0;

  explicit ConvexShape(Poly p = {});
  /// The chord [xl, xr] at height y; false when the line misses the polygon.
  bool span(double y, double& xl, double& xr) const;
  /// Distance from (x, y) to the nearest edge line (positive inside), in pixels.
  double insideDistance(double x, double y) const;
  double area() const;
};

enum class LandUse : std::uint8_t { Cropland, Forest, Water, Village, Scrub };
enum class ParcelKind : std::uint8_t { Field, Homestead, Scrub };
enum class Margin : std::uint8_t { Grass, Dirt, Hedge };

struct Block {
  ConvexShape shape;
  LandUse use = LandUse::Cropland;
  Margin margin = Margin::Grass;
  std::uint64_t seed = 0;
  // Water blocks: a lake ellipse (pixels) with a noisy shoreline.
  double lakeCx = 0, lakeCy = 0, lakeA = 0, lakeB = 0, lakeCos = 1, lakeSin = 0;
};

/// What a field is growing and how it looks (reflectance mixing weights, texture, rows).
struct Crop {
  float veg = 0.5f;              ///< green cover fraction
  float sen = 0.0f;              ///< senescence of the vegetation
  float soil = 1.0f;             ///< soil brightness multiplier
  float vegBright = 1.0f;        ///< canopy brightness multiplier (leaf area, variety)
  float texAmp = 0.1f;           ///< amplitude of patchy cover
  float texScaleM = 20;          ///< size of the patches (m)
  float rowCos = 1, rowSin = 0;  ///< unit vector across the rows
  float rowPeriodM = 3;          ///< row / furrow spacing (m)
  float rowAmp = 0;              ///< cover modulation by the rows
  float tramPeriodM = 0;         ///< tramline spacing (0 = none)
  float headlandM = 0;           ///< width of the headland strip
  float headlandVeg = 0;         ///< cover on the headland
  float bund = 0;                ///< blend toward bund grass on the outermost pixel ring
};

struct Parcel {
  ConvexShape shape;
  ParcelKind kind = ParcelKind::Field;
  int block = -1;
  int rowStart = 0, rowEnd = -1;  ///< kept rows, inclusive (rowEnd < rowStart: no pixels)
  long long pixels = 0;
  std::int32_t id = 0;  ///< field id (1..N) for fields, 0 otherwise
  Crop crop;
  std::uint64_t seed = 0;
};

struct Tree {
  double x = 0, y = 0, r = 1;  ///< crown centre and radius (pixels)
  float tone = 1;
};

struct House {
  double cx = 0, cy = 0, hw = 1, hh = 1, cosA = 1, sinA = 0;  ///< centre, half sizes (pixels)
  int roof = 0;  ///< 0 metal, 1 rust, 2 tiles, 3 thatch
};

/// A road or path: a segment painted with a half width (pixels), over the gap between blocks.
struct Road {
  V2 a, b;
  double hw = 1;
  bool main = true;  ///< main road (gravel / dirt) or footpath
};

struct LayoutParams {
  SynthPreset preset = SynthPreset::Smallholder;
  int width = 0, height = 0;
  double gsdM = 1;
  std::uint64_t seed = 1;
};

struct Layout {
  LayoutParams params;
  std::vector<Block> blocks;
  std::vector<Parcel> parcels;
  std::vector<int> fieldParcel;  ///< parcel index of field id k at [k-1]
  std::vector<Tree> trees;
  std::vector<House> houses;
  std::vector<Road> roads;
};

Layout buildLayout(const LayoutParams& params);

/// Columns [c0, c1) of parcel p's pixels in `row`; false when it has none there.
bool parcelRun(const Parcel& p, int row, int width, int& c0, int& c1);
/// Columns [c0, c1) whose centres lie in `shape` at `row` (clipped to [0, width)).
bool shapeRun(const ConvexShape& s, int row, int width, int& c0, int& c1);

/// The pixel-edge outline of parcel p (pixel units, closed implicitly), collinear points removed.
Poly parcelOutline(const Parcel& p, int width);

}  // namespace fieldseg::synth
