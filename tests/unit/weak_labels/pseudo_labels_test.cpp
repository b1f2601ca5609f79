// Pseudo-label selection (include/fieldseg/pseudo_labels.hpp): thresholds, human labels winning,
// fields cut by the image frame, the area range, and predictions that are not delineate output.
#include "fieldseg/pseudo_labels.hpp"

#include <gtest/gtest.h>

#include "fieldseg/error.hpp"

namespace fieldseg {
namespace {

constexpr double kX = 500000, kY = 9800000;

Polygon square(double x0, double y0, double side) {
  return Polygon{{{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}}, {}};
}

Field field(std::int64_t id, double x0, double conf, double bound) {
  Field f;
  f.id = id;
  f.polygon = square(kX + x0, kY + 100, 50);
  f.attrs["confidence"] = conf;
  f.attrs["boundary_strength"] = bound;
  f.attrs["area"] = 0.25;  // 50 m x 50 m in ha
  return f;
}

FieldSet predictions() {
  FieldSet s;
  s.crs = Crs::fromEpsg(32735);
  s.fields = {field(1, 100, 0.95, 0.6),  // kept
              field(2, 200, 0.50, 0.6),  // low confidence
              field(3, 300, 0.95, 0.1),  // weak boundary
              field(4, 400, 0.90, 0.5),  // under a human label
              field(5, 500, 0.90, 0.5),  // shares only an edge with that label: kept
              field(6, 0, 0.90, 0.5)};   // touches the image frame (x = kX)
  return s;
}

TEST(PseudoLabels, ConfidentFieldsAwayFromHumanLabelsAndTheFrameAreKept) {
  FieldSet human;
  human.crs = Crs::fromEpsg(32735);
  Field h;
  h.polygon = square(kX + 410, kY + 110, 40);  // inside field 4; shares no area with field 5
  Field touching;
  touching.polygon = square(kX + 550, kY + 100, 50);  // field 5's east neighbour
  human.fields = {h, touching};
  PseudoLabelOptions o;
  o.minConfidence = 0.8;
  o.minBoundaryStrength = 0.3;
  o.frame = WorldBox{kX, kY, kX + 1000, kY + 1000, Crs::fromEpsg(32735)};
  o.frameMarginM = 0.5;
  PseudoLabelReport rep;
  const FieldSet kept = selectPseudoLabels(predictions(), human, o, &rep);
  ASSERT_EQ(kept.fields.size(), 2u);
  EXPECT_EQ(kept.fields[0].id, 1);
  EXPECT_EQ(kept.fields[1].id, 5);
  EXPECT_EQ(std::get<std::int64_t>(kept.fields[0].attrs.at("pseudo")), 1);
  EXPECT_DOUBLE_EQ(std::get<double>(kept.fields[0].attrs.at("confidence")), 0.95);
  EXPECT_EQ(rep.predicted, 6);
  EXPECT_EQ(rep.kept, 2);
  EXPECT_EQ(rep.lowConfidence, 1);
  EXPECT_EQ(rep.weakBoundary, 1);
  EXPECT_EQ(rep.overlapLabels, 1);
  EXPECT_EQ(rep.touchFrame, 1);
}

TEST(PseudoLabels, HumanLabelsInAnotherCrsAreReprojected) {
  FieldSet human;
  human.crs = Crs::fromEpsg(32735);
  Field h;
  h.polygon = square(kX + 110, kY + 110, 30);  // inside field 1
  human.fields = {h};
  const FieldSet inLonLat = reproject(human, Crs::wgs84());
  PseudoLabelOptions o;
  o.minConfidence = 0;
  o.minBoundaryStrength = 0;
  PseudoLabelReport rep;
  const FieldSet kept = selectPseudoLabels(predictions(), inLonLat, o, &rep);
  EXPECT_EQ(rep.overlapLabels, 1);
  EXPECT_EQ(kept.fields.size(), 5u);
  for (const auto& f : kept.fields) EXPECT_NE(f.id, 1);
}

TEST(PseudoLabels, AreaRangeAndBadInputs) {
  PseudoLabelOptions o;
  o.minConfidence = 0;
  o.minBoundaryStrength = 0;
  o.maxAreaHa = 0.2;  // every field is 0.25 ha
  PseudoLabelReport rep;
  EXPECT_TRUE(selectPseudoLabels(predictions(), {}, o, &rep).fields.empty());
  EXPECT_EQ(rep.outsideAreaRange, 6);

  FieldSet noAttrs = predictions();
  noAttrs.fields[2].attrs.erase("boundary_strength");
  try {
    selectPseudoLabels(noAttrs, {}, PseudoLabelOptions{});
    FAIL() << "a field without boundary_strength was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'boundary_strength'"), std::string::npos) << e.what();
  }
  o = {};
  o.minConfidence = 1.5;
  EXPECT_THROW(selectPseudoLabels(predictions(), {}, o), UsageError);
  o = {};
  o.minAreaHa = 2;
  o.maxAreaHa = 1;
  EXPECT_THROW(selectPseudoLabels(predictions(), {}, o), UsageError);
}

}  // namespace
}  // namespace fieldseg
