// Hand-made cases for evaluateFields, with expected values derived by hand from the definitions.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/eval.hpp"

namespace fieldseg {
namespace {

// UTM 36S (Rwanda): a metric CRS, so coordinates below are metres.
const Crs& utm() {
  static const Crs c = Crs::fromEpsg(32736);
  return c;
}

Polygon rect(double x0, double y0, double x1, double y1) {
  return Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, {}};
}

Field field(std::int64_t id, Polygon p) {
  Field f;
  f.id = id;
  f.polygon = std::move(p);
  return f;
}

FieldSet setOf(std::vector<Field> fields) {
  FieldSet s;
  s.crs = utm();
  s.fields = std::move(fields);
  return s;
}

constexpr double kX = 500000, kY = 9800000;  // a place inside the zone

TEST(Evaluate, IdenticalPolygonsScoreOne) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 100, kY + 50)),
                          field(2, rect(kX + 100, kY, kX + 180, kY + 50)),
                          field(3, rect(kX, kY + 60, kX + 40, kY + 90))});
  EvalResult r = evaluateFields(truth, truth);
  EXPECT_EQ(r.metricCrs, "EPSG:32736");
  ASSERT_EQ(r.scoredFields, 3);
  EXPECT_DOUBLE_EQ(r.medianIou, 1.0);
  EXPECT_DOUBLE_EQ(r.meanIou, 1.0);
  EXPECT_DOUBLE_EQ(r.fracIouAbove08, 1.0);
  EXPECT_EQ(r.tp, 3);
  EXPECT_EQ(r.fp, 0);
  EXPECT_EQ(r.fn, 0);
  EXPECT_DOUBLE_EQ(r.f1, 1.0);
  EXPECT_NEAR(r.pixelIou, 1.0, 1e-12);
  EXPECT_NEAR(r.boundaryF1, 1.0, 1e-12);
  // Boundaries are dissolved: the shared edge of fields 1 and 2 (50 m) counts once.
  EXPECT_NEAR(r.truthBoundaryM, 2 * (100 + 50) + 2 * (80 + 50) - 50 + 2 * (40 + 30), 1e-6);
  for (const auto& f : r.perField) {
    EXPECT_TRUE(f.matched);
    EXPECT_EQ(f.matchedPredId, f.truthId);
  }
}

TEST(Evaluate, SplitFieldScoresTheLargerHalf) {
  FieldSet truth = setOf({field(7, rect(kX, kY, kX + 100, kY + 100))});
  FieldSet pred = setOf(
      {field(1, rect(kX, kY, kX + 60, kY + 100)), field(2, rect(kX + 60, kY, kX + 100, kY + 100))});
  EvalResult r = evaluateFields(pred, truth);
  ASSERT_EQ(r.perField.size(), 1u);
  EXPECT_NEAR(r.perField[0].iou, 0.6, 1e-12);
  EXPECT_EQ(r.perField[0].bestPredId, 1);
  EXPECT_NEAR(r.medianIou, 0.6, 1e-12);
  // 0.6 > 0.5: the larger half is a one-to-one match; the smaller one is a false positive.
  EXPECT_EQ(r.tp, 1);
  EXPECT_EQ(r.fp, 1);
  EXPECT_EQ(r.fn, 0);
  // Extent is perfect even though the instance is split.
  EXPECT_NEAR(r.pixelIou, 1.0, 1e-12);
  // Predicted boundary has an extra 100 m cut, of which only the 5 m at each end lies within the
  // default 5 m tolerance of the truth boundary; the truth boundary is all found.
  EXPECT_NEAR(r.boundaryRecall, 1.0, 1e-12);
  EXPECT_NEAR(r.boundaryPrecision, 410.0 / 500.0, 1e-9);
}

TEST(Evaluate, MissedFieldScoresZero) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 50, kY + 50)),
                          field(2, rect(kX + 200, kY, kX + 250, kY + 50)),
                          field(3, rect(kX + 400, kY, kX + 450, kY + 50))});
  FieldSet pred = setOf({field(10, rect(kX, kY, kX + 50, kY + 50)),
                         field(11, rect(kX + 200, kY, kX + 250, kY + 50))});
  EvalResult r = evaluateFields(pred, truth);
  EXPECT_DOUBLE_EQ(r.perField[2].iou, 0.0);
  EXPECT_EQ(r.perField[2].bestPredId, -1);
  EXPECT_FALSE(r.perField[2].matched);
  EXPECT_DOUBLE_EQ(r.medianIou, 1.0);
  EXPECT_NEAR(r.meanIou, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.fracIouAbove05, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.tp, 2);
  EXPECT_EQ(r.fn, 1);
  EXPECT_EQ(r.fp, 0);
  EXPECT_NEAR(r.recall, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.pixelRecall, 2.0 / 3.0, 1e-12);
}

TEST(Evaluate, ShiftedSquareHasKnownIou) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 10, kY + 10))});
  FieldSet pred = setOf({field(1, rect(kX + 2, kY, kX + 12, kY + 10))});
  EvalOptions o;
  o.boundaryToleranceM = 1.0;
  EvalResult r = evaluateFields(pred, truth, o);
  EXPECT_NEAR(r.perField[0].iou, 80.0 / 120.0, 1e-12);
  EXPECT_EQ(r.tp, 1);
  // Boundary within 1 m. Truth near the prediction: bottom and top edges for x in [1, 10] (9 m
  // each) and the right edge x = 10 within 1 m of the predicted bottom/top edges (1 m at each end);
  // the left edge x = 0 is 2 m from everything. 20 of 40 m; the prediction is the mirror image.
  EXPECT_NEAR(r.truthBoundaryNearM, 20.0, 1e-9);
  EXPECT_NEAR(r.predBoundaryNearM, 20.0, 1e-9);
  EXPECT_NEAR(r.boundaryRecall, 0.5, 1e-9);
  EXPECT_NEAR(r.boundaryPrecision, 0.5, 1e-9);
}

TEST(Evaluate, PartialIgnoresPredictionsOutsideLabelledArea) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 100, kY + 100))});
  FieldSet pred = setOf({field(1, rect(kX, kY, kX + 100, kY + 100)),
                         // an unlabelled field far away: not a FP under partial labels
                         field(2, rect(kX + 500, kY, kX + 600, kY + 100)),
                         // a spurious polygon inside the labelled field: a FP in both modes
                         field(3, rect(kX + 10, kY + 10, kX + 20, kY + 20))});
  EvalOptions full;
  EvalResult rf = evaluateFields(pred, truth, full);
  EXPECT_EQ(rf.tp, 1);
  EXPECT_EQ(rf.fp, 2);

  EvalOptions partial;
  partial.partial = true;
  partial.labelBufferM = 5;
  EvalResult rp = evaluateFields(pred, truth, partial);
  EXPECT_EQ(rp.tp, 1);
  EXPECT_EQ(rp.fp, 1);
  EXPECT_EQ(rp.predIgnored, 1);
  EXPECT_DOUBLE_EQ(rp.perField[0].iou, 1.0);
  // Area metrics only inside the labelled area: the far field does not count as FP area.
  EXPECT_NEAR(rp.areaFpM2, 0.0, 1e-6);
  EXPECT_NEAR(rf.areaFpM2, 100.0 * 100.0, 1e-6);
  ASSERT_TRUE(rp.regionAreaM2.has_value());
  // Region = the field buffered by 5 m with rounded corners (8 segments per quarter circle).
  EXPECT_GT(*rp.regionAreaM2, 110.0 * 110.0 - 25 * 4 + 1);
  EXPECT_LT(*rp.regionAreaM2, 110.0 * 110.0);
  EXPECT_TRUE(rp.pixelMcc.has_value());
  // Boundary of the far field is outside the labelled area: precision is unaffected by it.
  EXPECT_NEAR(rp.boundaryRecall, 1.0, 1e-12);
}

TEST(Evaluate, PartialCountsAPredictionMostlyInLabelledAreaAsFalsePositive) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 100, kY + 100))});
  // Two unmatched polygons beside the field: one wholly inside the 5 m label buffer (a FP), one
  // with only 2 of its 10 m width inside it (not counted).
  FieldSet pred = setOf({field(1, rect(kX, kY, kX + 100, kY + 100)),
                         field(2, rect(kX + 101, kY, kX + 104, kY + 100)),    // inside 5 m buffer
                         field(3, rect(kX + 103, kY, kX + 113, kY + 100))});  // 2/10 inside
  EvalOptions partial;
  partial.partial = true;
  partial.labelBufferM = 5;
  EvalResult r = evaluateFields(pred, truth, partial);
  EXPECT_EQ(r.tp, 1);
  EXPECT_EQ(r.fp, 1);  // polygon 2 only
  EXPECT_EQ(r.predIgnored, 1);
}

TEST(Evaluate, OneToOneMatchingUsesEachPredictionOnce) {
  // Two truths, one big prediction over both: IoU 0.5 each at most -> no match at > 0.5.
  FieldSet truth = setOf(
      {field(1, rect(kX, kY, kX + 50, kY + 100)), field(2, rect(kX + 50, kY, kX + 100, kY + 100))});
  FieldSet pred = setOf({field(9, rect(kX, kY, kX + 100, kY + 100))});
  EvalResult r = evaluateFields(pred, truth);
  EXPECT_NEAR(r.perField[0].iou, 0.5, 1e-12);
  EXPECT_NEAR(r.perField[1].iou, 0.5, 1e-12);
  EXPECT_EQ(r.tp, 0);
  EXPECT_EQ(r.fp, 1);
  EXPECT_EQ(r.fn, 2);
  EXPECT_DOUBLE_EQ(r.fracIouAbove05, 0.0);
  // With a lower match threshold only one truth can take the prediction.
  EvalOptions o;
  o.matchIou = 0.4;
  EvalResult r2 = evaluateFields(pred, truth, o);
  EXPECT_EQ(r2.tp, 1);
  EXPECT_EQ(r2.fn, 1);
  EXPECT_EQ(r2.fp, 0);
  EXPECT_TRUE(r2.perField[0].matched);  // tie broken by the lower truth index
}

TEST(Evaluate, AoiLimitsScoredFields) {
  FieldSet truth = setOf(
      {field(1, rect(kX, kY, kX + 50, kY + 50)), field(2, rect(kX + 500, kY, kX + 550, kY + 50))});
  FieldSet pred = setOf({field(1, rect(kX, kY, kX + 50, kY + 50))});
  EvalOptions o;
  o.aoi = setOf({field(0, rect(kX - 10, kY - 10, kX + 100, kY + 100))});
  EvalResult r = evaluateFields(pred, truth, o);
  EXPECT_EQ(r.scoredFields, 1);
  EXPECT_FALSE(r.perField[1].scored);
  EXPECT_DOUBLE_EQ(r.medianIou, 1.0);
  EXPECT_EQ(r.fn, 0);
  ASSERT_TRUE(r.pixelMcc.has_value());
  EXPECT_NEAR(*r.pixelMcc, 1.0, 1e-12);
}

TEST(Evaluate, ComparesAcrossCrss) {
  // Truth in lon/lat, prediction: the same polygon in UTM. IoU must be ~1.
  FieldSet pred = setOf({field(1, rect(kX, kY, kX + 80, kY + 60))});
  FieldSet truth;
  truth.crs = Crs::wgs84();
  CoordTransform ct(utm(), truth.crs);
  Field f = pred.fields[0];
  ct.apply(f.polygon.exterior);
  truth.fields.push_back(f);
  EvalResult r = evaluateFields(pred, truth);
  EXPECT_EQ(r.metricCrs, "EPSG:32736");
  EXPECT_NEAR(r.perField[0].iou, 1.0, 1e-6);
  EXPECT_NEAR(r.perField[0].areaM2, 4800.0, 1e-2);
}

TEST(Evaluate, RepairsBowTiesAndRejectsBadInput) {
  Polygon bow{{{kX, kY}, {kX + 10, kY + 10}, {kX + 10, kY}, {kX, kY + 10}}, {}};
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 10, kY + 10))});
  FieldSet pred = setOf({field(1, bow)});
  EvalResult r = evaluateFields(pred, truth);
  EXPECT_EQ(r.repairedPolygons, 1);
  EXPECT_NEAR(r.perField[0].iou, 0.5, 1e-9);  // the two triangles cover half the square

  EXPECT_THROW(evaluateFields(pred, setOf({})), DataError);
  FieldSet noCrs = pred;
  noCrs.crs = Crs();
  EXPECT_THROW(evaluateFields(noCrs, truth), DataError);
  EvalOptions bad;
  bad.matchIou = 1.5;
  EXPECT_THROW(evaluateFields(pred, truth, bad), UsageError);
}

TEST(Evaluate, EmptyPredictionScoresZeroEverywhere) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 10, kY + 10))});
  EvalResult r = evaluateFields(setOf({}), truth);
  EXPECT_DOUBLE_EQ(r.medianIou, 0.0);
  EXPECT_EQ(r.fn, 1);
  EXPECT_DOUBLE_EQ(r.pixelIou, 0.0);
  EXPECT_DOUBLE_EQ(r.boundaryRecall, 0.0);
}

TEST(Evaluate, MedianOfEvenAndOddCounts) {
  EXPECT_DOUBLE_EQ(medianOf({}), 0.0);
  EXPECT_DOUBLE_EQ(medianOf({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(medianOf({4, 1, 3, 2}), 2.5);
}

TEST(Calibrate, PicksTheCellThatReproducesTheTruth) {
  FieldSet truth = setOf({field(1, rect(kX, kY, kX + 100, kY + 100)),
                          field(2, rect(kX + 200, kY, kX + 260, kY + 100))});
  // A fake delineation: polygons shrink as t_ext grows away from 0.5 and fields below min area
  // vanish; t_bound has no effect. Only t_ext = 0.5 gives IoU 1.
  DelineateFn fake = [&](std::size_t, const Thresholds& t) {
    FieldSet out = setOf({});
    double shrink = std::abs(t.tExt - 0.5) * 40;
    for (const auto& f : truth.fields) {
      const auto& e = f.polygon.exterior;
      Polygon p = rect(e[0].x + shrink, e[0].y + shrink, e[2].x - shrink, e[2].y - shrink);
      double a = (e[2].x - e[0].x - 2 * shrink) * (e[2].y - e[0].y - 2 * shrink);
      if (a >= t.minAreaM2) out.fields.push_back(field(f.id, p));
    }
    return out;
  };
  CalibrationGrid grid{{0.3, 0.4, 0.5, 0.6}, {0.1, 0.2}, {0, 7000}};
  CalibrationResult res = calibrate(fake, {truth}, grid, EvalOptions{});
  ASSERT_EQ(res.cells.size(), 16u);
  const auto& best = res.cells[res.best];
  EXPECT_DOUBLE_EQ(best.thresholds.tExt, 0.5);
  EXPECT_DOUBLE_EQ(best.thresholds.minAreaM2, 0);
  EXPECT_DOUBLE_EQ(best.medianIou, 1.0);
  EXPECT_EQ(best.fields, 2);
  for (const auto& c : res.cells) EXPECT_LE(c.medianIou, best.medianIou);
  // min area 7000 removes the 6000 m2 field: that cell must score lower.
  EXPECT_LT(res.cells[2 * 2 * 2 + 1].medianIou, 1.0);
  EXPECT_THROW(calibrate(fake, {}, grid, EvalOptions{}), UsageError);
}

// Truth fields, tiles and the boundary near lengths run on threads: the whole result, per-field
// scores included, is the same text for 1, 2 and 3 threads, with --partial and with an AOI.
TEST(Evaluate, ResultIsTheSameForAnyThreadCount) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> jitter(-6, 6);
  std::vector<Field> t, p;
  for (int r = 0; r < 12; ++r)
    for (int c = 0; c < 12; ++c) {
      const double x = kX + c * 60, y = kY + r * 50;
      t.push_back(field(r * 12 + c + 1, rect(x, y, x + 55, y + 45)));
      if ((r + c) % 7 == 3) continue;  // missed fields
      const double dx = jitter(rng), dy = jitter(rng);
      p.push_back(field(1000 + r * 12 + c, rect(x + dx, y + dy, x + 50 + dx, y + 48 + dy)));
    }
  const FieldSet truth = setOf(t), pred = setOf(p);
  for (bool partial : {false, true}) {
    EvalOptions o;
    o.partial = partial;
    if (!partial) o.aoi = setOf({field(1, rect(kX + 100, kY + 80, kX + 500, kY + 420))});
    o.threads = 1;
    const std::string one = evalResultJson(evaluateFields(pred, truth, o), true);
    for (int threads : {2, 3}) {
      o.threads = threads;
      EXPECT_EQ(evalResultJson(evaluateFields(pred, truth, o), true), one)
          << threads << " threads, partial " << partial;
    }
  }
}

// EvalOptions::progress: called on the calling thread only, each stage in order with counts that
// never go back and end at its total; the scores do not change; the JSON holds no timing.
TEST(Evaluate, ProgressReportsEveryStageToItsEndOnTheCallingThread) {
  std::vector<Field> t, p;
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      const double x = kX + c * 60, y = kY + r * 50;
      t.push_back(field(r * 8 + c + 1, rect(x, y, x + 55, y + 45)));
      p.push_back(field(100 + r * 8 + c, rect(x + 3, y + 2, x + 52, y + 47)));
    }
  const FieldSet truth = setOf(t), pred = setOf(p);
  EvalOptions o;
  o.threads = 2;
  const std::string plain = evalResultJson(evaluateFields(pred, truth, o), true);
  const auto caller = std::this_thread::get_id();
  std::vector<std::string> stages;
  std::map<std::string, std::pair<long long, long long>> last;  // stage -> (done, total)
  bool otherThread = false, backwards = false;
  o.progress = [&](const std::string& stage, long long done, long long total) {
    otherThread = otherThread || std::this_thread::get_id() != caller;
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
    auto it = last.find(stage);
    if (it != last.end()) backwards = backwards || done < it->second.first;
    last[stage] = {done, total};
  };
  const EvalResult r = evaluateFields(pred, truth, o);
  EXPECT_EQ(evalResultJson(r, true), plain);
  EXPECT_FALSE(otherThread);
  EXPECT_FALSE(backwards);
  EXPECT_EQ(stages, (std::vector<std::string>{"field IoU", "extent areas", "boundaries"}));
  // Counted in tiles: field IoU and extent areas one pass over the grid each, boundaries four.
  EXPECT_EQ(last["field IoU"].second, last["extent areas"].second);
  EXPECT_EQ(last["boundaries"].second, 4 * last["extent areas"].second);
  for (const char* s : {"field IoU", "extent areas", "boundaries"}) {
    EXPECT_GT(last[s].second, 0) << s;
    EXPECT_EQ(last[s].first, last[s].second) << s;
  }
  EXPECT_EQ(r.stageSeconds.size(), 5u);
}

}  // namespace
}  // namespace fieldseg
