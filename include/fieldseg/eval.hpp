// Field-level evaluation of predicted field polygons against reference ("truth") polygons, and the
// threshold calibration built on it. Definitions follow ../shared/DOMAIN.md section 2:
//
//  * field IoU: for each scored truth field, the maximum IoU over the predicted fields that
//    intersect it (0 when none); summarised as median, mean, fraction > 0.5 and > 0.8;
//  * object precision / recall / F1: one-to-one matching of prediction and truth pairs with
//    IoU > matchIou (greedy by decreasing IoU, ties by lower truth then prediction index), TP / FP
//    / FN summed over the whole set (micro);
//  * panoptic quality (Fields of the Planet): PQ = sum of IoU over the matched pairs of scored
//    truth fields / (TP + FP / 2 + FN / 2), at the same matching; object F1 averaged over the IoU
//    thresholds 0.50, 0.55, ..., 0.95 (greedy matching by decreasing IoU, so the pairs matched at
//    threshold t are exactly the pairs of the first matching with IoU > t; a prediction that
//    loses its match becomes a false positive under the same region rule); boundary error: for each
//    matched pair, area(truth XOR prediction) / mean perimeter, the mean distance between the two
//    outlines for small displacements (m), summarised as the mean and median over matched pairs;
//  * area ("pixel") metrics of the extent, computed from exact polygon areas (no rasterisation):
//    TP = area(U_pred n U_truth n R), FP = area(U_pred n R) - TP, FN = area(U_truth n R) - TP,
//    where U is the union of a set and R the evaluation region (below). MCC only when R is bounded;
//  * boundary precision / recall / F1 within `boundaryToleranceM`: the boundary of a set is the
//    union of its polygons' rings (shared edges counted once); precision = length of the predicted
//    boundary inside R that lies within the tolerance of the whole truth boundary / length of the
//    predicted boundary inside R; recall the other way round. "Within" = at a Euclidean distance
//    <= the tolerance (exact; until session 20 GEOS ring buffers with 8 segments per quarter
//    circle, whose chords fell inside the circle: lengths about 0.1 % shorter).
//
// The evaluation region R: everywhere by default; the AOI when one is given; with `partial`, the
// labelled area L = union(truth) buffered by labelBufferM (intersected with the AOI when given).
// Scored truth fields: all of them, or those whose point-on-surface lies in the AOI. An unmatched
// prediction is a false positive when R is unbounded, or when at least partialFpMinFraction of its
// area lies inside R; predictions matched to an unscored truth field count neither way.
//
// All geometry is compared in one metric CRS: `metricCrs` when set, else the UTM zone (Crs::utmFor)
// of the centre of the truth's bounds (exterior vertices, in the truth's CRS) converted to lon/lat.
//
// Owner: src/eval. Functions are reentrant; results are plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/thresholds.hpp"

namespace fieldseg {

struct EvalOptions {
  bool partial = false;
  double matchIou = 0.5;            ///< object matching needs IoU strictly above this
  double boundaryToleranceM = 5.0;  ///< boundary F1 tolerance, metres
  double labelBufferM = 5.0;        ///< partial: labelled area = union(truth) buffered by this
  double partialFpMinFraction =
      0.5;                      ///< bounded R: unmatched prediction is FP if this share is in R
  std::optional<FieldSet> aoi;  ///< area of interest (any CRS)
  Crs metricCrs;                ///< empty = UTM of the truth centre
  bool boundaryMetrics = true;  ///< the costliest part; calibration may skip it
  bool areaMetrics = true;      ///< area (pixel) metrics; calibration may skip them
  int threads = 0;  ///< worker threads (<= 0: all cores); every figure is the same for any count
  /// Called on the calling thread as the long stages progress: stage "field IoU" (tiles),
  /// "extent areas" (tiles), "boundaries" (tiles, two passes); `done` of `total` so far.
  std::function<void(const std::string& stage, long long done, long long total)> progress;
};

struct FieldScore {
  std::size_t truthIndex = 0;  ///< index in the truth FieldSet
  std::int64_t truthId = 0;
  double areaM2 = 0;
  bool scored = true;            ///< false: outside the AOI (not in the summaries)
  double iou = 0;                ///< max IoU over intersecting predictions
  std::int64_t bestPredId = -1;  ///< prediction giving that IoU (-1: none intersects)
  long long bestPredIndex = -1;
  bool matched = false;  ///< one-to-one match at IoU > matchIou (a true positive)
  std::int64_t matchedPredId = -1;
};

struct EvalResult {
  std::string metricCrs;  ///< label of the CRS used
  int truthFields = 0;    ///< truth polygons read
  int predFields = 0;     ///< predicted polygons read
  int scoredFields = 0;   ///< truth fields scored
  int repairedPolygons = 0;
  int droppedPolygons = 0;  ///< empty after repair (not scored; predictions ignored)

  // field IoU over scored fields
  double medianIou = 0, meanIou = 0, fracIouAbove05 = 0, fracIouAbove08 = 0;

  // objects
  long long tp = 0, fp = 0, fn = 0;
  long long predIgnored = 0;  ///< unmatched predictions outside R (not FP) or matched to unscored
  double precision = 0, recall = 0, f1 = 0;
  double panopticQuality = 0;   ///< PQ at matchIou
  double f1MeanIou50To95 = 0;   ///< object F1 averaged over IoU thresholds 0.50..0.95 (step 0.05)
  std::vector<double> f1AtIou;  ///< the ten F1 values behind it
  double boundaryErrorMeanM = 0, boundaryErrorMedianM = 0;  ///< over matched pairs (0 if none)

  // area (pixel) metrics of the extent, m2
  bool areaComputed = false;
  double areaTpM2 = 0, areaFpM2 = 0, areaFnM2 = 0;
  std::optional<double> regionAreaM2;  ///< area of R when bounded
  double pixelIou = 0, pixelF1 = 0, pixelPrecision = 0, pixelRecall = 0;
  std::optional<double> pixelMcc;

  // boundaries
  bool boundaryComputed = false;
  double boundaryToleranceM = 0;
  double predBoundaryM = 0, truthBoundaryM = 0;
  double predBoundaryNearM = 0, truthBoundaryNearM = 0;
  double boundaryPrecision = 0, boundaryRecall = 0, boundaryF1 = 0;

  std::vector<FieldScore> perField;  ///< one per truth polygon, in input order

  /// Wall seconds of each stage in order (prepare, field IoU, matching + object scores, extent
  /// areas, boundaries), for `evaluate -v`; not in the JSON, which is the same for every run.
  std::vector<std::pair<std::string, double>> stageSeconds;
};

/// Evaluates `pred` against `truth` (any CRSs). Throws DataError when the truth has no usable
/// polygon or a CRS is missing / not transformable.
EvalResult evaluateFields(const FieldSet& pred, const FieldSet& truth,
                          const EvalOptions& options = {});

/// Median of values (mean of the two middle ones for an even count; 0 for none).
double medianOf(std::vector<double> values);

/// JSON object text of a result (per-field scores included when `withPerField`).
std::string evalResultJson(const EvalResult& r, bool withPerField = false);
/// A human-readable table of a result.
std::string evalResultTable(const EvalResult& r);
/// The truth fields (in their own CRS) with attributes truth_id, iou, best_pred_id, matched,
/// matched_pred_id, area_m2, scored: ready for writeFields.
FieldSet perFieldLayer(const FieldSet& truth, const EvalResult& r);

// ---- calibration -----------------------------------------------------------------------------

struct CalibrationGrid {
  std::vector<double> tExt;
  std::vector<double> tBound;
  std::vector<double> minAreaM2;
  std::vector<double> tDist = {0};
  std::vector<double> markerH = {0.1};  ///< innermost axis (used only where t_dist > 0)
};

struct CalibrationCell {
  Thresholds thresholds;
  double medianIou = 0;
  double meanIou = 0;
  int fields = 0;  ///< scored truth fields over all validation images
};

struct CalibrationResult {
  std::vector<CalibrationCell>
      cells;             ///< grid order: tExt outer, then tBound, min area, tDist, markerH
  std::size_t best = 0;  ///< index of the chosen cell
};

/// Polygons (any CRS) from image `image` of the validation set at the given thresholds.
using DelineateFn = std::function<FieldSet(std::size_t image, const Thresholds& thresholds)>;

/// Grid search maximising median field IoU pooled over all scored fields of all images (ties:
/// higher mean IoU, then the earlier cell). `truth[i]` belongs to image i; `delineate` is called
/// once per image and cell, so keep the probabilities in memory and make it post-processing only.
CalibrationResult calibrate(const DelineateFn& delineate, const std::vector<FieldSet>& truth,
                            const CalibrationGrid& grid, const EvalOptions& options);

}  // namespace fieldseg
