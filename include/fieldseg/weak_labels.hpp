// The weak-label generator: partial field polygons -> masked training targets (LabelStack), and
// training chips with their manifest (see ../shared/DOMAIN.md section 1 and weak_labels/README.md).
//
// Targets, all on one grid (definitions in pixels of that grid; "outside" = a pixel whose centre is
// not in the field, another field's pixels included):
//  - field pixels: the pixel-centre rasterisation of each polygon (a later polygon wins overlaps);
//  - distance d(p) of a field pixel: Euclidean distance between its centre and the nearest pixel
//    centre outside its field (1 for the 4-connected inner edge). Pixels beyond the work grid are
//    treated as "unknown", never as outside;
//  - extent: field pixels with d > border_px (border_px = border_m / GSD; default 1 px, i.e. the
//    inner edge ring is removed, so the extents of two touching fields never 4-touch);
//  - outline: field pixels with d == 1; boundary: pixels within Chebyshev distance < boundary_px of
//    an outline pixel (boundary_px 1 = the outline only, 2 = a 3x3 dilation of it);
//  - distance band: (d - 1) / (dmax - 1) per field (0 on the outline, 1 at the field's deepest
//    pixel; 0 for fields with no pixel off the outline);
//  - mask: 1 on field pixels, boundary pixels and --noncrop pixels (labelled background), 0
//    elsewhere and wherever the image is invalid. Targets are 0 where mask is 0.
//
// Ownership: weak_labels/ (this header, label_stack.cpp, chips.cpp). Values only; functions are
// reentrant and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/raster.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg {

struct LabelOptions {
  /// Border strip removed from each field's extent, in metres; < 0 = one pixel of the grid's GSD.
  double borderM = -1;
  /// Boundary half-width in pixels (>= 1); see the header comment.
  int boundaryPx = 2;
  /// Most pixels the work grid may extend beyond the target grid on each side, so that fields cut
  /// by the grid edge keep their true edges and per-field distance normalisation.
  int maxPadPx = 1024;
};

/// extent, boundary, distance, mask (bands in that order, all in [0, 1]) on one grid.
struct LabelStack {
  static constexpr int kExtent = 0;
  static constexpr int kBoundary = 1;
  static constexpr int kDistance = 2;
  static constexpr int kMask = 3;
  Raster<float> raster;  ///< 4 bands, bandNames {extent, boundary, distance, mask}
  /// Field pixels (pixel-centre rule) on the same grid: index of the polygon in the input list + 1,
  /// 0 = no field. Useful as a truth instance raster.
  Raster<std::int32_t> instance;

  const GridSpec& grid() const { return raster.grid; }
  /// Fraction of pixels with mask == 1.
  double labelledFraction() const;
  /// Same for a window of the grid (pixels outside the grid count as unlabelled).
  double labelledFraction(const PixelWindow& w) const;
  /// The 4 bands over a window (boundless: outside = 0).
  Raster<float> window(const PixelWindow& w) const;
};

/// What happened while building a LabelStack.
struct LabelStats {
  int fieldsGiven = 0;
  int fieldsUsed = 0;           ///< at least one field pixel inside the grid
  int fieldsOutside = 0;        ///< bounding box misses the grid entirely
  int fieldsNoPixel = 0;        ///< overlaps the grid but no pixel centre inside (tiny or hidden)
  int fieldsWithoutExtent = 0;  ///< used, but every pixel is in the border strip
  int fieldsSkipped = 0;        ///< could not be reprojected (see skipReasons)
  std::vector<std::string> skipReasons;
  int noncropUsed = 0;
  double borderPx = 0;  ///< border strip actually used, in pixels
  long long labelledPx = 0;
  double labelledFraction = 0;
};

/// Builds the targets for `fields` and `noncrop`, both already in grid.crs(). `valid` (optional,
/// rows*cols of the grid, 1 = valid) masks out invalid image pixels. Throws UsageError for bad
/// options.
LabelStack buildLabelStack(const std::vector<Polygon>& fields, const std::vector<Polygon>& noncrop,
                           const GridSpec& grid, const LabelOptions& options = {},
                           const std::vector<std::uint8_t>* valid = nullptr,
                           LabelStats* stats = nullptr);

/// Same from FieldSets in any CRS: polygons are reprojected to grid.crs() first. Throws DataError
/// when a FieldSet has no CRS or its CRS cannot be transformed to the grid's.
LabelStack buildLabelStack(const FieldSet& fields, const GridSpec& grid,
                           const LabelOptions& options = {}, const FieldSet* noncrop = nullptr,
                           const std::vector<std::uint8_t>* valid = nullptr,
                           LabelStats* stats = nullptr);

/// Polygons of `fields` in `to` (point by point through PROJ). Polygons whose points fail to
/// transform are dropped and described in `skipReasons` (when given). Throws DataError as above.
std::vector<Polygon> polygonsInCrs(const FieldSet& fields, const Crs& to,
                                   std::vector<std::string>* skipReasons = nullptr);

/// Deterministic spatial split used for the Rwanda fine-tune / evaluation halves: fields sorted by
/// the longitude of their area centroid (computed in EPSG:4326, as SpatiaLite's ST_Centroid; ties
/// broken by input order); "west" keeps the first floor(n/2), "east" the rest. Throws UsageError
/// for another `half`.
FieldSet splitFields(const FieldSet& fields, const std::string& half);

// ---- chips ------------------------------------------------------------------------------------

struct ChipOptions {
  int chipPx = 256;
  int stridePx = 192;
  double minLabelled = 0.05;  ///< chips with a smaller labelled fraction are skipped
};

/// Chip windows over a width x height grid: a row-major grid of chipPx windows at stridePx, the
/// last row/column shifted back to end at the raster edge (a single window, padded, when the raster
/// is smaller than a chip). Throws UsageError for chipPx < 1 or stridePx < 1.
std::vector<PixelWindow> chipWindows(int width, int height, int chipPx, int stridePx);

/// Everything a chip set needs from one scale of one scene.
struct ChipSource {
  const RasterSource* image = nullptr;  ///< the scene at this scale (its grid = labels grid)
  const LabelStack* labels = nullptr;
  std::string sourceImage;   ///< path as the user gave it
  std::string sourceFields;  ///< path as the user gave it
  std::string stem;          ///< file-name stem for this scene's chips
  int scale = 1;
  std::vector<BandStats> bandStats;  ///< whole-scene statistics of `image`
};

struct ChipReport {
  int written = 0;
  int skippedLowLabel = 0;
  std::vector<std::string> manifestLines;  ///< one JSON object per written chip
};

/// Writes `dir`/img/<stem>_s<scale>_<x>_<y>.tif (raw image window, Float32, invalid = 0) and
/// `dir`/lbl/<same>.tif (the 4 label bands, mask 0 where the image is invalid) for every chip
/// window with labelled fraction >= minLabelled, and returns the manifest lines (contracts.md;
/// "fields" = number of distinct fields with a pixel in the chip).
/// Does not touch the manifest file itself (see updateManifest). Throws IoError.
ChipReport writeChips(const ChipSource& source, const std::string& dir,
                      const ChipOptions& options = {});

/// Rewrites `dir`/manifest.jsonl atomically: keeps the existing lines whose "source_image" is not
/// `sourceImage`, then appends `lines`. Returns how many old lines were replaced.
int updateManifest(const std::string& dir, const std::string& sourceImage,
                   const std::vector<std::string>& lines);
/// Number of manifest lines in `dir` whose "source_image" equals `sourceImage` (0 if no manifest).
int manifestEntriesFor(const std::string& dir, const std::string& sourceImage);

}  // namespace fieldseg
