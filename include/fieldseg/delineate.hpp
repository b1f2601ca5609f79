// Delineation: imagery (one or more co-registered dates) -> probability mosaic -> field polygons.
//
// Two streamed passes over tiles (tiles/README.md has the details):
//  1. predict: read tile + halo of every date, normalise with whole-scene p2/p98 statistics, batch,
//     run the Predictor, keep the core, average the dates, quantise to 8 bits, and write the
//     mosaic to a tiled GeoTIFF (the --probabilities file, or a temp file that is deleted). Skipped
//     when probabilities are given (`DelineateInput::probabilitiesIn`).
//  2. fields: read the mosaic tile + a small halo, label instances (src/post/instances.hpp), cut
//     them into per-tile pieces, merge pieces across tile edges through their shared pixels, and
//     build each field once from its complete pixel set. The output does not depend on the tile
//     size or the thread count.
//
// Ownership: tiles/ (delineate.cpp). Thread safety: delineate() may run concurrently with itself on
// different outputs; the Predictor must honour its maxConcurrency().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/predictor.hpp"
#include "fieldseg/thresholds.hpp"

namespace fieldseg {

struct DelineateInput {
  /// One entry per date; each date is one file or several single-band files stacked in order.
  std::vector<std::vector<std::string>> dates;
  /// The network; may be null when probabilitiesIn is given.
  Predictor* predictor = nullptr;
  /// A raster on the image grid whose bands 1-3 are extent, boundary, distance (float in [0, 1] or
  /// 8-bit 0..255). Replaces the network when not empty.
  std::string probabilitiesIn;
  /// Written as the `model` attribute ("" = the probabilities file name).
  std::string modelName;
};

struct DelineateOptions {
  int tilePx = 512;                ///< network tile core size (the fields pass: fieldsTilePx)
  int haloPx = 64;                 ///< network context around each core in pass 1
  int batch = 1;                   ///< tiles per predict() call (and per pipeline token)
  int threads = 0;                 ///< TBB worker threads; 0 = all cores
  double gsdM = 0;                 ///< resample the imagery on read to this GSD (0 = native)
  std::vector<std::string> bands;  ///< band selection (names or 1-based indices); empty = model's
  /// Per-date band selection: one entry per date of DelineateInput::dates, overriding `bands`
  /// (a two-date 8-band file read as bands 1-4 and 5-8); empty = `bands` for every date.
  std::vector<std::vector<std::string>> dateBands;
  /// Every field's determination_datetime (ISO 8601 UTC, fieldseg/datetime.hpp); empty = the
  /// first date's acquisition time when its metadata (STAC, TIFF tags) knows it.
  std::string datetime;

  Thresholds thresholds;  ///< the post-processing thresholds (fieldseg/thresholds.hpp)
  double simplifyM = 0;   ///< topology-preserving simplification tolerance (0 = exact pixel edges)

  /// A processed window above this many megapixels is refused up front (UsageError naming the
  /// figure); 0 = no limit. A VRT or sparse TIFF can declare 1e12 pixels in a few bytes.
  double maxMpx = 4000;

  std::string probabilitiesOut;  ///< optional uint8 3-band GeoTIFF of the mosaic
  bool overwrite = false;        ///< for probabilitiesOut
  std::string tempDir;           ///< where the temporary mosaic goes ("" = system temp dir)
  /// Area of interest (any CRS): only the pixel window covering it is processed and fields that do
  /// not intersect it are dropped.
  std::optional<FieldSet> aoi;

  /// When set, fields are streamed here in id order (through a temp spill file in tempDir, so
  /// memory stays bounded by the tiles in flight) instead of being returned in the result.
  std::function<void(Field&&)> sink;

  /// Progress: stage ("predict" / "fields"), tiles done, tiles total, pixels done.
  std::function<void(const std::string&, long long, long long, long long)> progress;
};

struct DelineateReport {
  GridSpec grid;                   ///< image grid (after --gsd)
  PixelWindow window;              ///< pixels processed
  std::vector<std::string> bands;  ///< band names read
  std::string datetime;            ///< first date's acquisition time, when known
  long long tiles = 0;             ///< tiles of pass 2
  long long predictTiles = 0;      ///< tiles of pass 1 (0 when probabilities were given)
  /// Pass 1's tile cells (the raster-wide network tile grid, tiles/predict_pass.hpp) and the pixels
  /// the network ran on (cells + halo), for the waste figure network px / output px.
  int networkTileX = 0, networkTileY = 0;
  long long networkPixels = 0;
  long long nodataTiles = 0;      ///< pass-1 tiles skipped because every pixel is invalid
  long long nonFinitePixels = 0;  ///< pixel-dates masked as nodata because a band is NaN/Inf
  bool allNodata = false;         ///< no valid pixel in any date
  long long piecesMerged = 0;     ///< fields assembled from more than one tile
  long long droppedSmall = 0;     ///< instances below minAreaM2
  long long fieldCount = 0;       ///< fields returned or streamed
  double predictSeconds = 0, fieldsSeconds = 0, statsSeconds = 0;
  std::vector<std::vector<double>> bandP2P98;  ///< per date, per band: p2, p98
};

struct DelineateResult {
  FieldSet fields;  ///< in the image CRS, ids 1..n in row-major order of each field's first pixel
  DelineateReport report;
};

/// Runs both passes over the whole image (or the AOI window). Throws IoError (unreadable input),
/// UsageError (bands that do not match the predictor, bad options), DataError (grids differ).
DelineateResult delineate(const DelineateInput& input, const DelineateOptions& options);

/// For grid/batch runs: delineates `core` read with `haloPx` around it and returns exactly the
/// fields OWNED by the core: those whose first pixel (lowest row, then column) lies in the core and
/// that are complete inside the read window. Disjoint cores that partition an image therefore give
/// every field exactly once, uncut, when haloPx is at least the largest field's extent (plus
/// fieldsHaloMarginPx(options)); larger fields are dropped and counted in `droppedIncomplete`.
DelineateResult delineateOwned(const DelineateInput& input, const PixelWindow& core, int haloPx,
                               const DelineateOptions& options,
                               long long* droppedIncomplete = nullptr);

/// Pixels of context the fields pass reads around each tile core so that labels are exact: the
/// instance rules' reach for these thresholds (more in marker mode, t_dist > 0) plus one, rounded
/// up to a multiple of 8.
int fieldsHaloMarginPx(const DelineateOptions& options);

/// The attributes every field of delineate() carries besides `id`, with their types: the one
/// declaration the writers' schema comes from. area (ha), perimeter (m), confidence and
/// boundary_strength come from src/post's FieldBuilder; determination_method,
/// determination_datetime (when the imagery has a date), model and source from delineate().
std::vector<AttrDef> delineateFieldSchema();

}  // namespace fieldseg
