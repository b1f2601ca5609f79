// evaluateFields: field IoU, object P/R/F1, area (pixel) and boundary metrics of predicted field
// polygons against truth polygons (definitions in include/fieldseg/eval.hpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>

#include "fieldseg/error.hpp"
#include "fieldseg/eval.hpp"
#include "fieldseg/geometry_metrics.hpp"
#include "parallel_for.hpp"
#include "tile_grid.hpp"
#include "tiled_metrics.hpp"
#include "world_box_ops.hpp"

namespace fieldseg {
namespace {

// A quarter circle in 8 segments: the same default the independent Python check uses.
constexpr int kQuadSegs = 8;

WorldBox noBox() {
  WorldBox b;
  b.minX = b.minY = 1;
  b.maxX = b.maxY = -1;
  return b;
}

Crs metricCrsFor(const FieldSet& truth) {
  double minX = std::numeric_limits<double>::infinity(), minY = minX, maxX = -minX, maxY = -minX;
  for (const auto& f : truth.fields) {
    for (const auto& p : f.polygon.exterior) {
      minX = std::min(minX, p.x), minY = std::min(minY, p.y);
      maxX = std::max(maxX, p.x), maxY = std::max(maxY, p.y);
    }
  }
  if (!(maxX >= minX)) {
    throw DataError(
        "eval: no truth vertices to choose a metric CRS: the truth is empty. Pass a "
        "truth file with polygons.");
  }
  Point centre{(minX + maxX) / 2, (minY + maxY) / 2};
  if (!truth.crs.isGeographic() || !truth.crs.sameAs(Crs::wgs84())) {
    centre = CoordTransform(truth.crs, Crs::wgs84()).apply(centre);
  }
  return Crs::utmFor(centre.x, centre.y);
}

// Reprojects vertex by vertex (no densification: field edges are short).
std::vector<Polygon> toMetric(const FieldSet& set, const Crs& to, const char* what) {
  std::vector<Polygon> out;
  out.reserve(set.fields.size());
  if (set.crs.empty()) {
    throw DataError(std::string("eval: ") + what +
                    " has no CRS: cannot compare it in metres. Assign one (ogr2ogr -a_srs).");
  }
  if (set.crs.sameAs(to)) {
    for (const auto& f : set.fields) out.push_back(f.polygon);
    return out;
  }
  CoordTransform ct(set.crs, to);
  for (const auto& f : set.fields) {
    Polygon p = f.polygon;
    bool ok = ct.apply(p.exterior);
    for (auto& h : p.holes) ok = ct.apply(h) && ok;
    if (!ok) {
      throw DataError(std::string("eval: reprojecting ") + what + " field " + std::to_string(f.id) +
                      " to '" + to.label() + "' failed: coordinates outside the CRS's area. " +
                      "Check the CRS of the file.");
    }
    out.push_back(std::move(p));
  }
  return out;
}

struct Layer {
  std::vector<Shape> shapes;
  std::vector<double> areas;
  std::vector<WorldBox> boxes;
};

// Each polygon to a valid Shape (GEOS validity, MakeValid where needed: most of the time spent
// preparing), on `threads` threads; the counts are summed in index order afterwards.
Layer buildLayer(const std::vector<Polygon>& polys, int& repaired, int& dropped, int threads) {
  Layer l;
  const std::size_t n = polys.size();
  std::vector<std::optional<Shape>> shapes(n);  // nothing built for dropped polygons yet
  l.areas.assign(n, 0.0);
  l.boxes.assign(n, noBox());
  std::vector<char> rep(n, 0);
  eval::parallelFor(n, threads, [&](std::size_t i) {
    bool r = false;
    Shape s = Shape::fromPolygon(polys[i], &r);
    rep[i] = r;
    const double a = s.area();
    if (!(a > 0)) return;  // dropped: an empty shape, area 0, no box
    l.boxes[i] = s.bounds();
    l.areas[i] = a;
    shapes[i] = std::move(s);
  });
  l.shapes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    repaired += rep[i];
    dropped += shapes[i] ? 0 : 1;
    l.shapes.push_back(shapes[i] ? std::move(*shapes[i]) : Shape());
  }
  return l;
}

double safeDiv(double a, double b) { return b > 0 ? a / b : 0.0; }

void addVertices(const Ring& ring, std::vector<double>& xs, std::vector<double>& ys) {
  for (const auto& v : ring) {
    xs.push_back(v.x);
    ys.push_back(v.y);
  }
}

// Tiles about two typical fields wide (at least 20 boundary tolerances, so the 2-tolerance margins
// of boundary pieces stay small; at most 256 x 256 tiles), with edges off every vertex coordinate.
// Smaller tiles cut large polygons into more pieces, larger ones make each tile's overlays bigger;
// two field widths was fastest on both benchmark scenes (src/eval/README.md).
eval::TileGrid tileGridFor(const Layer& t, const Layer& p, const std::vector<Polygon>& truthPolys,
                           const std::vector<Polygon>& predPolys,
                           const std::optional<WorldBox>& regionBox, double toleranceM) {
  std::vector<WorldBox> boxes;
  std::vector<double> sides;
  for (const Layer* l : {&t, &p}) {
    for (std::size_t i = 0; i < l->shapes.size(); ++i) {
      if (l->shapes[i].empty()) continue;
      boxes.push_back(l->boxes[i]);
      sides.push_back(
          std::max(l->boxes[i].maxX - l->boxes[i].minX, l->boxes[i].maxY - l->boxes[i].minY));
    }
  }
  if (regionBox && !regionBox->empty()) boxes.push_back(*regionBox);
  if (sides.empty()) return eval::TileGrid(noBox(), 0, {}, {});
  WorldBox extent = boxes.front();
  for (const auto& b : boxes) extent = eval::unite(extent, b);
  std::vector<double> xs, ys;
  for (const auto* polys : {&truthPolys, &predPolys}) {
    for (const auto& poly : *polys) {
      addVertices(poly.exterior, xs, ys);
      for (const auto& h : poly.holes) addVertices(h, xs, ys);
    }
  }
  const double span = std::max(extent.maxX - extent.minX, extent.maxY - extent.minY);
  const double side = std::max({2 * medianOf(sides), 20 * toleranceM, span / 256});
  return eval::TileGrid(extent, side, xs, ys);
}

struct Pair {
  double iou;
  std::size_t t, p;
  double interM2;  ///< the pair's intersection area (the tiled sweep's)
};

// Refuses what cannot be scored: no truth, IoU or distances out of range.
void checkInputs(const FieldSet& truth, const EvalOptions& opt) {
  if (truth.fields.empty()) {
    throw DataError(
        "eval: the truth has no polygons: nothing to score. Pass a truth file with "
        "field polygons.");
  }
  if (!(opt.matchIou >= 0 && opt.matchIou < 1)) {
    throw UsageError("eval: match IoU '" + std::to_string(opt.matchIou) +
                     "' is out of range: it must be in [0, 1). Use 0.5.");
  }
  if (opt.boundaryToleranceM < 0 || opt.labelBufferM < 0) {
    throw UsageError(
        "eval: negative boundary tolerance or label buffer: distances are >= 0. Pass "
        "a value in metres >= 0.");
  }
}

// opt.progress for `stage` as a parallelFor progress; pass `part` of `parts` of one stage.
eval::ProgressFn stageProgress(const EvalOptions& opt, const char* stage, std::size_t part = 0,
                               std::size_t parts = 1) {
  if (!opt.progress) return {};
  return [&opt, stage, part, parts](std::size_t done, std::size_t n) {
    opt.progress(stage, static_cast<long long>(part * n + done), static_cast<long long>(parts * n));
  };
}

// Every intersecting (truth, prediction) pair with its IoU; each truth field's best IoU, and the
// field-IoU summary over the scored fields. The areas come from the tiled sweep
// (tiled_metrics.hpp), each pair's IoU from the sweep's own areas of the two shapes, so a
// prediction identical to its truth field scores exactly 1.
std::vector<Pair> pairsAndFieldIou(const Layer& T, const Layer& P, const FieldSet& pred,
                                   const eval::TileGrid& grid, EvalResult& r, int threads,
                                   const eval::ProgressFn& progress) {
  const eval::PairAreas areas = eval::pairAreas(grid, T.shapes, P.shapes, threads, progress);
  std::vector<Pair> pairs;  // by truth field, then as the sweep listed them
  for (std::size_t i = 0; i < T.shapes.size(); ++i) {
    FieldScore& fs = r.perField[i];
    for (const auto& [j, inter] : areas.byTruth[i]) {
      const double sum = areas.truthM2[i] + areas.predM2[j];
      // Shapes that only touch can leave a rounding residue (a vertex of one on an edge of the
      // other): far below any real overlap.
      if (!(inter > 1e-10 * sum)) continue;
      const double iou = std::min(1.0, inter / (sum - inter));
      pairs.push_back({iou, i, j, inter});
      if (iou > fs.iou) {
        fs.iou = iou;
        fs.bestPredIndex = static_cast<long long>(j);
        fs.bestPredId = pred.fields[j].id;
      }
    }
  }

  std::vector<double> ious;
  for (const auto& fs : r.perField) {
    if (fs.scored) ious.push_back(fs.iou);
  }
  r.scoredFields = static_cast<int>(ious.size());
  if (!ious.empty()) {
    r.medianIou = medianOf(ious);
    r.meanIou = std::accumulate(ious.begin(), ious.end(), 0.0) / ious.size();
    r.fracIouAbove05 = std::count_if(ious.begin(), ious.end(), [](double v) { return v > 0.5; }) /
                       static_cast<double>(ious.size());
    r.fracIouAbove08 = std::count_if(ious.begin(), ious.end(), [](double v) { return v > 0.8; }) /
                       static_cast<double>(ious.size());
  }

  return pairs;
}

struct Matching {
  std::vector<Pair> matched;          ///< the one-to-one pairs of scored truth fields
  std::vector<Pair> matchedUnscored;  ///< pairs of unscored truth fields: count neither way
};

// One-to-one matching at IoU > matchIou, greedy by decreasing IoU; TP, FN, and FP (under a
// bounded region only predictions mostly inside it).
Matching matchObjects(const std::vector<Pair>& pairs, const Layer& T, const Layer& P,
                      const FieldSet& pred, const EvalOptions& opt, const eval::TileGrid& grid,
                      bool bounded, const std::vector<Shape>& regionTiles, EvalResult& r) {
  // --- one-to-one matching ----------------------------------------------------------------------
  std::vector<Pair> cand;
  for (const auto& pr : pairs) {
    if (pr.iou > opt.matchIou) cand.push_back(pr);
  }
  std::sort(cand.begin(), cand.end(), [](const Pair& a, const Pair& b) {
    return std::tie(b.iou, a.t, a.p) < std::tie(a.iou, b.t, b.p);
  });
  std::vector<char> tUsed(T.shapes.size(), 0), pUsed(P.shapes.size(), 0);
  Matching m;
  std::vector<Pair>& matched = m.matched;
  std::vector<Pair>& matchedUnscored = m.matchedUnscored;
  for (const auto& pr : cand) {
    if (tUsed[pr.t] || pUsed[pr.p]) continue;
    tUsed[pr.t] = pUsed[pr.p] = 1;
    FieldScore& fs = r.perField[pr.t];
    fs.matched = true;
    fs.matchedPredId = pred.fields[pr.p].id;
    if (fs.scored) {
      ++r.tp;
      matched.push_back(pr);
    } else {
      ++r.predIgnored;
      matchedUnscored.push_back(pr);
    }
  }
  for (const auto& fs : r.perField) {
    if (fs.scored && !fs.matched) ++r.fn;
  }
  std::vector<double> inRegionM2;
  if (bounded) {
    std::vector<char> unmatched(P.shapes.size(), 0);
    for (std::size_t j = 0; j < P.shapes.size(); ++j) unmatched[j] = !pUsed[j];
    inRegionM2 = eval::areasInRegion(grid, P.shapes, unmatched, regionTiles, opt.threads);
  }
  for (std::size_t j = 0; j < P.shapes.size(); ++j) {
    if (pUsed[j] || P.shapes[j].empty()) continue;
    bool isFp = true;
    if (bounded) isFp = inRegionM2[j] >= opt.partialFpMinFraction * P.areas[j];
    if (isFp)
      ++r.fp;
    else
      ++r.predIgnored;
  }
  r.precision = safeDiv(r.tp, r.tp + r.fp);
  r.recall = safeDiv(r.tp, r.tp + r.fn);
  r.f1 = safeDiv(2.0 * r.tp, 2.0 * r.tp + r.fp + r.fn);

  return m;
}

// Panoptic quality, F1 averaged over IoU 0.50..0.95 and the boundary error of matched pairs.
void objectQuality(const Matching& mt, const Layer& T, const Layer& P, const EvalOptions& opt,
                   const eval::TileGrid& grid, bool bounded, const std::vector<Shape>& regionTiles,
                   EvalResult& r) {
  const std::vector<Pair>& matched = mt.matched;
  const std::vector<Pair>& matchedUnscored = mt.matchedUnscored;
  double iouSum = 0;
  for (const auto& m : matched) iouSum += m.iou;
  r.panopticQuality = safeDiv(iouSum, r.tp + 0.5 * r.fp + 0.5 * r.fn);
  // A prediction that loses its match at a higher threshold is judged like any unmatched one.
  std::vector<char> fpIfUnmatched(P.shapes.size(), 1);
  if (bounded) {
    std::vector<char> all(P.shapes.size(), 1);
    const std::vector<double> inside =
        eval::areasInRegion(grid, P.shapes, all, regionTiles, opt.threads);
    for (std::size_t j = 0; j < P.shapes.size(); ++j)
      fpIfUnmatched[j] = inside[j] >= opt.partialFpMinFraction * P.areas[j];
  }
  r.f1AtIou.clear();
  double f1Sum = 0;
  for (int k = 0; k < 10; ++k) {
    const double t = 0.5 + 0.05 * k;
    long long tp = 0, lost = 0;
    for (const auto& m : matched) {
      if (m.iou > t)
        ++tp;
      else if (fpIfUnmatched[m.p])
        ++lost;
    }
    for (const auto& m : matchedUnscored)
      if (!(m.iou > t) && fpIfUnmatched[m.p]) ++lost;
    const long long fn = r.fn + (static_cast<long long>(matched.size()) - tp);
    const long long fp = r.fp + lost;
    const double f1 = safeDiv(2.0 * tp, 2.0 * tp + fp + fn);
    r.f1AtIou.push_back(f1);
    f1Sum += f1;
  }
  r.f1MeanIou50To95 = f1Sum / 10.0;
  std::vector<double> errors;
  for (const auto& m : matched) {
    const double xorArea = std::max(0.0, T.areas[m.t] + P.areas[m.p] - 2 * m.interM2);
    const double meanPerimeter = 0.5 * (T.shapes[m.t].length() + P.shapes[m.p].length());
    if (meanPerimeter > 0) errors.push_back(xorArea / meanPerimeter);
  }
  if (!errors.empty()) {
    r.boundaryErrorMeanM =
        std::accumulate(errors.begin(), errors.end(), 0.0) / static_cast<double>(errors.size());
    r.boundaryErrorMedianM = medianOf(errors);
  }
}

// Extent scores from exact polygon areas inside the region.
void areaMetrics(const Layer& T, const Layer& P, const eval::TileGrid& grid,
                 const std::vector<Shape>& regionTiles, EvalResult& r, const EvalOptions& opt) {
  r.areaComputed = true;
  const eval::ExtentAreas areas = eval::extentAreas(
      grid, T.shapes, P.shapes, regionTiles, opt.threads, stageProgress(opt, "extent areas"));
  double tArea = areas.truthM2, pArea = areas.predM2;
  double tp = areas.overlapM2;
  r.areaTpM2 = tp;
  r.areaFpM2 = std::max(0.0, pArea - tp);
  r.areaFnM2 = std::max(0.0, tArea - tp);
  r.pixelIou = safeDiv(tp, pArea + tArea - tp);
  r.pixelF1 = safeDiv(2 * tp, pArea + tArea);
  r.pixelPrecision = safeDiv(tp, pArea);
  r.pixelRecall = safeDiv(tp, tArea);
  if (r.regionAreaM2) {
    double tn = std::max(0.0, *r.regionAreaM2 - pArea - tArea + tp);
    double fp = r.areaFpM2, fn = r.areaFnM2;
    double den = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
    r.pixelMcc = den > 0 ? (tp * tn - fp * fn) / std::sqrt(den) : 0.0;
  }
}

// Boundary precision / recall / F1 within the tolerance: dissolved linework (shared edges once)
// tile by tile, and the length of each set's within the tolerance of the other's
// (tiled_metrics.hpp).
void boundaryMetrics(const Layer& T, const Layer& P, const EvalOptions& opt,
                     const eval::TileGrid& grid, const std::vector<Shape>& regionTiles,
                     EvalResult& r) {
  r.boundaryComputed = true;
  std::vector<Shape> tb, pb;
  for (const auto& s : T.shapes) {
    if (!s.empty()) tb.push_back(s.boundary());
  }
  for (const auto& s : P.shapes) {
    if (!s.empty()) pb.push_back(s.boundary());
  }
  const double tol = opt.boundaryToleranceM;
  const int passes = tol > 0 ? 4 : 2;
  const auto progressOf = [&](int part) { return stageProgress(opt, "boundaries", part, passes); };
  // With a tolerance, the linework dissolved without GEOS (dissolve_lines.hpp).
  const eval::BoundaryLengths b =
      tol > 0
          ? eval::boundaryLengths(grid, tb, pb, regionTiles, tol, opt.threads, progressOf)
          : eval::boundaryLengthsWithGeos(grid, tb, pb, regionTiles, tol, opt.threads, progressOf);
  r.truthBoundaryM = b.truthM;
  r.predBoundaryM = b.predM;
  r.predBoundaryNearM = b.predNearM;
  r.truthBoundaryNearM = b.truthNearM;
  r.boundaryPrecision = safeDiv(r.predBoundaryNearM, r.predBoundaryM);
  r.boundaryRecall = safeDiv(r.truthBoundaryNearM, r.truthBoundaryM);
  r.boundaryF1 =
      safeDiv(2 * r.boundaryPrecision * r.boundaryRecall, r.boundaryPrecision + r.boundaryRecall);
}

}  // namespace

double medianOf(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

EvalResult evaluateFields(const FieldSet& pred, const FieldSet& truth, const EvalOptions& opt) {
  checkInputs(truth, opt);
  EvalResult r;
  Crs metric = opt.metricCrs.empty() ? metricCrsFor(truth) : opt.metricCrs;
  if (metric.isGeographic()) {
    throw UsageError("eval: metric CRS '" + metric.label() +
                     "' is geographic: areas need a projected CRS. Pass a UTM or equal-area CRS.");
  }
  r.metricCrs = metric.label();
  r.truthFields = static_cast<int>(truth.fields.size());
  r.predFields = static_cast<int>(pred.fields.size());
  r.boundaryToleranceM = opt.boundaryToleranceM;

  auto lapStart = std::chrono::steady_clock::now();
  auto lap = [&](const char* stage) {
    const auto now = std::chrono::steady_clock::now();
    r.stageSeconds.emplace_back(stage, std::chrono::duration<double>(now - lapStart).count());
    lapStart = now;
  };
  std::vector<Polygon> truthPolys = toMetric(truth, metric, "the truth");
  std::vector<Polygon> predPolys =
      pred.fields.empty() ? std::vector<Polygon>{} : toMetric(pred, metric, "the prediction");
  Layer T = buildLayer(truthPolys, r.repairedPolygons, r.droppedPolygons, opt.threads);
  Layer P = buildLayer(predPolys, r.repairedPolygons, r.droppedPolygons, opt.threads);

  // --- evaluation region R --------------------------------------------------------------------
  std::optional<Shape> aoi;
  if (opt.aoi) {
    int rep = 0, drop = 0;
    Layer A = buildLayer(toMetric(*opt.aoi, metric, "the AOI"), rep, drop, opt.threads);
    aoi = Shape::unionOf(A.shapes);
    if (aoi->empty()) {
      throw DataError("eval: the AOI has no area: its polygons are empty. Pass an AOI polygon.");
    }
  }
  // R's bounds (for the tile grid): the AOI's; with --partial the truth's grown by the buffer.
  std::optional<WorldBox> regionBox;
  if (aoi) regionBox = aoi->bounds();
  if (opt.partial) {
    std::optional<WorldBox> labelledBox;
    for (std::size_t i = 0; i < T.shapes.size(); ++i)
      if (!T.shapes[i].empty())
        labelledBox = labelledBox ? eval::unite(*labelledBox, T.boxes[i]) : T.boxes[i];
    if (labelledBox) {
      const WorldBox grownBox = eval::grown(*labelledBox, opt.labelBufferM);
      regionBox = aoi ? eval::clampTo(grownBox, *regionBox) : grownBox;
    }
  }
  const bool bounded = aoi || opt.partial;
  // Unions, buffers and region overlays run tile by tile (tile_grid.hpp): a handful of large
  // many-vertex polygons made the whole-layer GEOS overlays take minutes. So does the labelled
  // area L of --partial: it is built tile by tile too (labelledByTile).
  const eval::TileGrid grid =
      tileGridFor(T, P, truthPolys, predPolys, regionBox, opt.boundaryToleranceM);
  std::vector<Shape> regionTiles = eval::regionByTile(grid, aoi);
  if (opt.partial)
    regionTiles =
        eval::labelledByTile(grid, T.shapes, opt.labelBufferM, kQuadSegs, regionTiles, opt.threads);
  if (bounded) {
    double area = 0;
    for (const auto& piece : regionTiles) area += piece.area();  // in tile order
    r.regionAreaM2 = area;
  }

  // --- which truth fields are scored ---------------------------------------------------------
  r.perField.resize(T.shapes.size());
  for (std::size_t i = 0; i < T.shapes.size(); ++i) {
    FieldScore& fs = r.perField[i];
    fs.truthIndex = i;
    fs.truthId = truth.fields[i].id;
    fs.areaM2 = T.areas[i];
    fs.scored = !T.shapes[i].empty() && (!aoi || aoi->covers(T.shapes[i].pointOnSurface()));
  }

  lap("prepare");
  const std::vector<Pair> pairs =
      pairsAndFieldIou(T, P, pred, grid, r, opt.threads, stageProgress(opt, "field IoU"));
  lap("field IoU");
  const Matching mt = matchObjects(pairs, T, P, pred, opt, grid, bounded, regionTiles, r);
  objectQuality(mt, T, P, opt, grid, bounded, regionTiles, r);
  lap("objects");
  if (opt.areaMetrics) areaMetrics(T, P, grid, regionTiles, r, opt);
  lap("extent areas");
  if (opt.boundaryMetrics) boundaryMetrics(T, P, opt, grid, regionTiles, r);
  lap("boundaries");
  return r;
}

}  // namespace fieldseg
