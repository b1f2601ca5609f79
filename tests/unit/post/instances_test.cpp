// labelInstances (floors and marker mode), distanceMarkers, the seam merge's pieces and groups, and
// FieldBuilder, on small hand-made probability planes whose right answer is known.
#include "instances.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "field_builder.hpp"
#include "seam_merge.hpp"

namespace fieldseg::post {
namespace {

// Two 12 x 12 fields side by side (columns 2-13 and 15-26, rows 2-13) on a 16 x 30 plane, split by
// a boundary line at column 14; `gap` rows of that line (rows 6-7) have no boundary.
struct Scene {
  int rows = 16, cols = 30;
  std::vector<std::uint8_t> ext, bnd, dst;
  explicit Scene(bool gap) {
    const size_t n = static_cast<size_t>(rows) * cols;
    ext.assign(n, 0);
    bnd.assign(n, 0);
    dst.assign(n, 0);
    for (int r = 1; r <= 14; ++r)
      for (int c = 1; c <= 27; ++c) {
        const size_t i = static_cast<size_t>(r) * cols + c;
        ext[i] = 230;
        const bool edge = r == 1 || r == 14 || c == 1 || c == 27 || c == 14;
        if (edge && !(gap && c == 14 && (r == 6 || r == 7))) bnd[i] = 240;
        // Distance: a peak at the centre of each field, 0 on its outline.
        const int cx = c < 14 ? 7 : 20;
        const double d = std::max(std::abs(r - 7.5), std::abs(c - cx + 0.0));
        dst[i] = static_cast<std::uint8_t>(std::max(0.0, 255.0 * (1.0 - d / 6.5)));
      }
  }
  std::int32_t at(const std::vector<std::int32_t>& l, int r, int c) const {
    return l[static_cast<size_t>(r) * cols + c];
  }
};

TEST(Instances, FloorsSeparateFieldsAtAClosedBoundaryLine) {
  const Scene s(false);
  std::vector<std::int32_t> labels;
  InstanceParams p;  // floors: t_ext 0.4, t_bound 0.2
  const int n =
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, labels);
  EXPECT_EQ(n, 2);
  EXPECT_NE(s.at(labels, 7, 7), 0);
  EXPECT_NE(s.at(labels, 7, 20), 0);
  EXPECT_NE(s.at(labels, 7, 7), s.at(labels, 7, 20));
  EXPECT_EQ(s.at(labels, 7, 7), 1);  // numbered in row-major order of the first pixel
  EXPECT_EQ(s.at(labels, 0, 0), 0);  // background
}

TEST(Instances, MarkersKeepFieldsApartThroughAGapFloorsDoNot) {
  const Scene s(true);
  std::vector<std::int32_t> floors, markers;
  InstanceParams p;
  EXPECT_EQ(
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, floors),
      1);  // the gap joins the two floors
  p.markerQ = quantizeThreshold(0.1);
  EXPECT_EQ(
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, markers),
      2);
  EXPECT_NE(s.at(markers, 7, 7), s.at(markers, 7, 20));
  EXPECT_NE(s.at(markers, 7, 7), 0);
}

TEST(Instances, InvalidPixelsAreBackground) {
  const Scene s(false);
  std::vector<std::uint8_t> valid(static_cast<size_t>(s.rows) * s.cols, 1);
  for (int r = 0; r < s.rows; ++r)
    for (int c = 0; c < 14; ++c) valid[static_cast<size_t>(r) * s.cols + c] = 0;
  std::vector<std::int32_t> labels;
  InstanceParams p;
  EXPECT_EQ(labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), valid.data(), s.rows, s.cols,
                           p, labels),
            1);
  EXPECT_EQ(s.at(labels, 7, 7), 0);
  EXPECT_NE(s.at(labels, 7, 20), 0);
}

TEST(Instances, MarkersAreThePeaksTopsAndShallowDipsDoNotSplit) {
  const Scene s(true);
  std::vector<std::uint8_t> kind(s.ext.size());
  for (size_t i = 0; i < kind.size(); ++i) kind[i] = s.ext[i] >= 102 ? 1 : 0;
  InstanceParams p;
  p.markerQ = 1;
  std::vector<std::uint8_t> isMarker;
  distanceMarkers(s.dst.data(), s.rows, s.cols, p, kind, isMarker);
  EXPECT_EQ(isMarker[static_cast<size_t>(7) * s.cols + 7], 1);
  EXPECT_EQ(isMarker[static_cast<size_t>(7) * s.cols + 20], 1);
  EXPECT_EQ(isMarker[static_cast<size_t>(7) * s.cols + 14], 0);  // the dip between them
  // With a marker height above the dip's depth the two equal peaks share one top (the dip lies
  // within h of both), so they seed one field.
  p.markerHeightQ = 254;
  distanceMarkers(s.dst.data(), s.rows, s.cols, p, kind, isMarker);
  EXPECT_EQ(isMarker[static_cast<size_t>(7) * s.cols + 14], 1);
  std::vector<std::int32_t> labels;
  p.markerQ = quantizeThreshold(0.1);
  EXPECT_EQ(
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, labels),
      1);
}

TEST(SeamMerge, AnInstanceCutByACoreEdgeIsOneGroup) {
  // One 4 x 6 instance (rows 2-5, columns 2-7) on a 10 x 8 grid whose processed area is columns
  // 1-8, rows 1-6, cut by the core edge at column 5: tile 0 is columns 1-4, tile 1 columns 5-8.
  // Each tile's label window is the whole grid (a 1 px rim around every core, as the halo gives).
  const int rows = 8, cols = 10;
  std::vector<std::int32_t> labels(static_cast<size_t>(rows) * cols, 0);
  for (int r = 2; r < 6; ++r)
    for (int c = 2; c < 8; ++c) labels[static_cast<size_t>(r) * cols + c] = 1;
  const std::vector<std::uint8_t> ext(labels.size(), 200), bnd(labels.size(), 10);
  const PixelWindow window{0, 0, cols, rows}, area{1, 1, 8, 6};
  TilePieces a = cutTilePieces(labels, ext, bnd, {window, {1, 1, 4, 6}, area, cols, 0});
  TilePieces b = cutTilePieces(labels, ext, bnd, {window, {5, 1, 4, 6}, area, cols, 1});
  EXPECT_TRUE(a.closed.empty());
  EXPECT_TRUE(b.closed.empty());
  ASSERT_EQ(a.open.size(), 1u);
  ASSERT_EQ(b.open.size(), 1u);
  EXPECT_EQ(a.open[0].pixels + b.open[0].pixels, 24);
  std::vector<Piece> open{a.open[0], b.open[0]};
  std::vector<PixelKey> border = a.border, links = a.links;
  border.insert(border.end(), b.border.begin(), b.border.end());
  links.insert(links.end(), b.links.begin(), b.links.end());
  long long merged = 0;
  const auto groups = groupOpenPieces(open, border, links, &merged);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].size(), 2u);
  EXPECT_EQ(merged, 1);
  EXPECT_TRUE(border.empty() && links.empty());  // consumed

  // FieldBuilder: the two pieces are one 4 x 6 field of 3 m pixels = 216 m2.
  const GridSpec grid(cols, rows, {600000, 3, 0, 110000, 0, -3}, Crs::fromEpsg(32636));
  BuildParams bp;
  bp.minAreaM2 = 0;
  const FieldBuilder builder(grid, bp);
  const auto f = builder.build(groups[0]);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->firstPixel, 2 * cols + 2);
  EXPECT_EQ(f->minRow, 2);
  EXPECT_EQ(f->maxRow, 5);
  EXPECT_EQ(f->minCol, 2);
  EXPECT_EQ(f->maxCol, 7);
  EXPECT_NEAR(std::get<double>(f->field.attrs.at("area")), 216e-4, 2e-6);  // hectares
  bp.minAreaM2 = 300;
  const FieldBuilder strict(grid, bp);
  EXPECT_FALSE(strict.build(groups[0]).has_value());
  EXPECT_EQ(strict.droppedSmall(), 1);
}

}  // namespace
}  // namespace fieldseg::post
