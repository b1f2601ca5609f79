// labelInstances (floors and marker mode), distanceMarkers, the seam merge's pieces and groups, and
// FieldBuilder, on small hand-made probability planes whose right answer is known.
#include "instances.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
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

// A rows x cols plane of rectangular fields of 6-240 px (recursive splits, seeded), each with
// extent 230 inside, a boundary line on its outline broken by gaps, a distance peak at its centre,
// plus lanes of background and a little deterministic noise: floods, crests and marker searches
// of every reach occur.
struct FieldPlane {
  int rows, cols;
  std::vector<std::uint8_t> ext, bnd, dst;
  FieldPlane(int r, int c, unsigned seed) : rows(r), cols(c) {
    const size_t n = static_cast<size_t>(rows) * cols;
    ext.assign(n, 20);
    bnd.assign(n, 10);
    dst.assign(n, 0);
    unsigned state = seed;
    auto rnd = [&state](int m) {
      state = state * 1103515245u + 12345u;
      return static_cast<int>((state >> 8) % static_cast<unsigned>(m));
    };
    split(0, 0, rows, cols, rnd);
    for (size_t i = 0; i < n; ++i)
      ext[i] = static_cast<std::uint8_t>(std::clamp(ext[i] + rnd(21) - 10, 0, 255));
  }
  template <class R>
  void split(int r0, int c0, int h, int w, R& rnd) {
    if ((h > 240 || w > 240 || rnd(4) > 0) && (h >= 14 || w >= 14)) {
      if (h >= w && h >= 14) {
        const int k = 6 + rnd(h - 12);
        split(r0, c0, k, w, rnd);
        split(r0 + k, c0, h - k, w, rnd);
        return;
      }
      if (w >= 14) {
        const int k = 6 + rnd(w - 12);
        split(r0, c0, h, k, rnd);
        split(r0, c0 + k, h, w - k, rnd);
        return;
      }
    }
    if (rnd(8) == 0) return;                          // a lane or fallow: background
    const int ridge = rnd(3) == 0 ? 2 + rnd(12) : 0;  // some fields: a wide faint boundary band
    for (int r = r0; r < r0 + h; ++r)
      for (int c = c0; c < c0 + w; ++c) {
        const size_t i = static_cast<size_t>(r) * cols + c;
        const int d = std::min({r - r0, r0 + h - 1 - r, c - c0, c0 + w - 1 - c});
        ext[i] = 230;
        if (d == 0 && rnd(10) > 1) bnd[i] = 240;  // about one outline pixel in five is a gap
        if (d > 0 && d < ridge) bnd[i] = 80;
        dst[i] =
            static_cast<std::uint8_t>(std::min(255, 255 * d / std::max(1, std::min(h, w) / 2)));
      }
  }
};

// What tiling relies on (tiles/README.md): a pixel's label depends on the input within
// instanceMarginPx() only, up to which marker component it belongs to. So labelling a window
// grown by the margin gives, inside the window, the same field / background pixels, and each of
// its labels lies inside one label of the whole plane (components joined only outside the crop
// are joined again by the seam merge). The fields halo of tiles/ is derived from the same margin
// (fieldsHaloMarginPx). Measured when this test was written: with a quarter of the margin both
// modes fail here, with half of it they still pass (the bound is conservative on these planes), so
// a rule whose reach outgrows the margin by about 2x or more is caught.
TEST(Instances, LabelsInsideAWindowDependOnlyOnTheMargin) {
  const FieldPlane s(600, 600, 7);
  for (const bool markers : {false, true}) {
    InstanceParams p;
    if (markers) p.markerQ = quantizeThreshold(0.1);
    std::vector<std::int32_t> whole;
    labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, whole);
    const int m = instanceMarginPx(p);
    // Windows of kWin px on a grid, each labelled again from its crop (the window grown by the
    // margin, inside the plane).
    constexpr int kWin = 40;
    std::set<std::int32_t> seen;
    size_t fieldPixels = 0;
    int windows = 0;
    for (int r0 = m; r0 + kWin + m <= s.rows; r0 += 24)
      for (int q0 = m; q0 + kWin + m <= s.cols; q0 += 24) {
        ++windows;
        const int cr0 = r0 - m, cq0 = q0 - m, cn = kWin + 2 * m;
        std::vector<std::uint8_t> e, b, d;
        for (int r = cr0; r < cr0 + cn; ++r)
          for (int c = cq0; c < cq0 + cn; ++c) {
            const size_t i = static_cast<size_t>(r) * s.cols + c;
            e.push_back(s.ext[i]);
            b.push_back(s.bnd[i]);
            d.push_back(s.dst[i]);
          }
        std::vector<std::int32_t> crop;
        labelInstances(e.data(), b.data(), d.data(), nullptr, cn, cn, p, crop);
        std::map<std::int32_t, std::int32_t> inWhole;  // crop label -> the whole plane's label
        for (int r = r0; r < r0 + kWin; ++r)
          for (int c = q0; c < q0 + kWin; ++c) {
            const std::int32_t lw = whole[static_cast<size_t>(r) * s.cols + c];
            const std::int32_t lc = crop[static_cast<size_t>(r - cr0) * cn + (c - cq0)];
            ASSERT_EQ(lw == 0, lc == 0)
                << (markers ? "markers" : "floors") << " at " << r << "," << c;
            if (lc == 0) continue;
            ++fieldPixels;
            seen.insert(lw);
            const auto [it, fresh] = inWhole.emplace(lc, lw);
            ASSERT_EQ(it->second, lw) << (markers ? "markers" : "floors") << ": crop label " << lc
                                      << " spans two fields at " << r << "," << c;
          }
      }
    EXPECT_GE(windows, 4);
    EXPECT_GT(fieldPixels, 4000u);
    EXPECT_GT(seen.size(), 10u) << "the windows should hold many fields";
  }
}

// The flood keeps cost and source in one 32-bit key while both fit (costs up to 126) and in a
// 64-bit key beyond: floods that never cost more than 126 label alike either way. Floor mode,
// whose floods cross a boundary band only (costs up to about 30 here); marker floods do reach
// cost 127 on this plane. The two widths share their code, so this checks the key packing and
// the cost limit of each, not the flood itself (the other tests do that).
TEST(Instances, FloodKeysOfEitherWidthGiveTheSameLabels) {
  const FieldPlane s(300, 300, 5);
  std::vector<std::int32_t> narrow, wide;
  InstanceParams p;
  p.maxCost = 126;  // 32-bit keys
  const int n =
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, narrow);
  p.maxCost = 1000;  // 64-bit keys
  EXPECT_EQ(
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, wide),
      n);
  ASSERT_EQ(narrow, wide);
  EXPECT_GT(n, 10) << "the plane should hold many fields";
  EXPECT_GT(std::count_if(narrow.begin(), narrow.end(), [](std::int32_t l) { return l > 0; }),
            20000);
}

// A kept box (what tiles/ keeps of a window: the core and one pixel around it) changes no label
// inside it: marker mode floods only within reach of the box and settles crests only inside it.
TEST(Instances, KeptBoxLabelsAreTheWholeWindowsLabels) {
  const FieldPlane s(600, 600, 11);
  for (const bool markers : {false, true}) {
    InstanceParams p;
    if (markers) p.markerQ = quantizeThreshold(0.1);
    std::vector<std::int32_t> whole;
    const int n =
        labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, whole);
    size_t fieldPixels = 0;
    for (const KeptBox box : {KeptBox{190, 190, 220, 220}, KeptBox{0, 300, 150, 300},
                              KeptBox{450, 0, 150, 600}, KeptBox{5, 7, 1, 1}}) {
      std::vector<std::int32_t> part;
      EXPECT_EQ(labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p,
                               part, &box),
                n);
      for (int r = box.row0; r < box.row0 + box.rows; ++r)
        for (int c = box.col0; c < box.col0 + box.cols; ++c) {
          const size_t i = static_cast<size_t>(r) * s.cols + c;
          ASSERT_EQ(part[i], whole[i])
              << (markers ? "markers" : "floors") << " at " << r << "," << c;
          fieldPixels += whole[i] != 0;
        }
    }
    EXPECT_GT(fieldPixels, 40000u);  // not vacuous: the boxes hold fields
    if (markers) {
      // ... and the floods did stop: far from a one-pixel box, field pixels stay unlabelled.
      const KeptBox corner{5, 7, 1, 1};
      std::vector<std::int32_t> part;
      labelInstances(s.ext.data(), s.bnd.data(), s.dst.data(), nullptr, s.rows, s.cols, p, part,
                     &corner);
      size_t differ = 0;
      for (size_t i = 0; i < part.size(); ++i) differ += part[i] != whole[i];
      EXPECT_GT(differ, 10000u);
    }
  }
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
  SeamMerger seams(2, 1);  // two tiles in one row
  seams.add(a, 0);
  EXPECT_TRUE(seams.takeFinished().empty()) << "tile 1 could still add to the piece";
  EXPECT_EQ(seams.heldPieces(), 1u);
  seams.add(b, 0);
  const auto groupPieces = seams.takeFinished();
  ASSERT_EQ(groupPieces.size(), 1u);
  ASSERT_EQ(groupPieces[0].size(), 2u);
  EXPECT_LT(groupPieces[0][0].key, groupPieces[0][1].key);
  EXPECT_EQ(seams.merged(), 1);
  EXPECT_EQ(seams.heldPieces(), 0u);
  const std::vector<std::vector<const Piece*>> groups{{&groupPieces[0][0], &groupPieces[0][1]}};

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

// SeamMerger hands a group out once the rows that could still add to it are all in, whatever
// order the tiles come in: here 4 rows x 1 column of 4 px cores on a 16 x 4 grid, one instance in
// rows 2-5 (cut by the core edge at row 4) and one in rows 9-10 (inside the last core).
TEST(SeamMerge, AGroupIsHandedOutOnceTheRowsNextToItAreIn) {
  const int rows = 16, cols = 4;
  std::vector<std::int32_t> labels(static_cast<size_t>(rows) * cols, 0);
  for (int r = 2; r < 6; ++r)
    for (int c = 1; c < 3; ++c) labels[static_cast<size_t>(r) * cols + c] = 1;
  for (int r = 9; r < 11; ++r)
    for (int c = 1; c < 3; ++c) labels[static_cast<size_t>(r) * cols + c] = 2;
  const std::vector<std::uint8_t> ext(labels.size(), 200), bnd(labels.size(), 10);
  const PixelWindow window{0, 0, cols, rows}, area{0, 0, cols, rows};
  std::vector<TilePieces> tile;
  for (int t = 0; t < 4; ++t)
    tile.push_back(cutTilePieces(labels, ext, bnd, {window, {0, 4 * t, cols, 4}, area, cols, t}));
  ASSERT_EQ(tile[0].open.size(), 1u);  // rows 2-3 of the first instance
  ASSERT_EQ(tile[1].open.size(), 1u);  // rows 4-5
  ASSERT_EQ(tile[2].closed.size(), 1u);
  EXPECT_TRUE(tile[2].open.empty());
  // Rows 1 and 0 in reverse order: nothing is final until row 0 is in too.
  SeamMerger seams(1, 4);
  seams.add(tile[1], 1);
  EXPECT_TRUE(seams.takeFinished().empty());
  seams.add(tile[0], 0);
  // Rows 0-1 in: the group's lowest piece is in row 1, so row 2 could still add to it.
  EXPECT_TRUE(seams.takeFinished().empty());
  EXPECT_EQ(seams.heldPieces(), 2u);
  seams.add(tile[2], 2);  // rows 0-2 in: the group is final before the last row comes in
  const auto groups = seams.takeFinished();
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].size(), 2u);
  EXPECT_EQ(groups[0][0].pixels + groups[0][1].pixels, 8);
  EXPECT_EQ(seams.merged(), 1);
  EXPECT_EQ(seams.heldPieces(), 0u);
  seams.add(tile[3], 3);
  EXPECT_TRUE(seams.takeFinished().empty());
}

}  // namespace
}  // namespace fieldseg::post
