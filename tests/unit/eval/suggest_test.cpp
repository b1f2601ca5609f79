// Label suggestions (include/fieldseg/suggest.hpp) on a probability raster whose windows are known:
// the most uncertain window ranks first, labelled, nodata and crop-free windows are skipped, and
// byte probabilities rank like float ones.
#include "fieldseg/suggest.hpp"

#include <gtest/gtest.h>

#include "fieldseg/error.hpp"

namespace fieldseg {
namespace {

// 4 x 1 windows of 16 px over a 64 x 16 grid (1 m pixels, UTM 35S):
//   window 0: extent 0.9, boundary 0.1   (sure)
//   window 1: extent 0.5, boundary 0.5   (unsure: entropy 1 bit)
//   window 2: extent 0.7, boundary 0.3   (in between)
//   window 3: extent 0.5, boundary 0.5 but 75 % nodata
Raster<float> scene(float scale) {
  const GridSpec g(64, 16, {500000, 1, 0, 9800000, 0, -1}, Crs::fromEpsg(32735));
  Raster<float> r(3, 16, 64);
  r.grid = g;
  const float ext[4] = {0.9f, 0.5f, 0.7f, 0.5f}, bnd[4] = {0.1f, 0.5f, 0.3f, 0.5f};
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 64; ++x) {
      r.at(0, y, x) = ext[x / 16] * scale;
      r.at(1, y, x) = bnd[x / 16] * scale;
      if (x >= 48 && y >= 4) r.valid[static_cast<size_t>(y) * 64 + x] = 0;
    }
  }
  return r;
}

TEST(Suggest, TheMostUncertainWindowRanksFirstAndNodataIsSkipped) {
  auto src = memoryRaster(scene(1.0f));
  SuggestOptions o;
  o.windowPx = 16;
  o.count = 10;
  SuggestReport rep;
  const auto s = suggestWindows(*src, false, {}, o, &rep);
  EXPECT_EQ(rep.windows, 4);
  EXPECT_EQ(rep.skippedNodata, 1);  // window 3: 25 % valid < 50 %
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].window.x, 16);
  EXPECT_NEAR(s[0].score, 1.0, 1e-6);
  EXPECT_EQ(s[0].rank, 1);
  EXPECT_EQ(s[1].window.x, 32);
  EXPECT_EQ(s[2].window.x, 0);
  // H(0.9) = H(0.1) = 0.469 bits.
  EXPECT_NEAR(s[2].score, 0.469, 1e-3);
  EXPECT_NEAR(s[2].meanExtent, 0.9, 1e-6);
}

TEST(Suggest, LabelledWindowsAreSkipped) {
  auto src = memoryRaster(scene(1.0f));
  SuggestOptions o;
  o.windowPx = 16;
  // A field drawn over the whole unsure window (x 516..532 m, all rows).
  const Polygon field{{{500016, 9800000}, {500032, 9800000}, {500032, 9799984}, {500016, 9799984}},
                      {}};
  SuggestReport rep;
  const auto s = suggestWindows(*src, false, {field}, o, &rep);
  EXPECT_EQ(rep.skippedLabelled, 1);
  ASSERT_EQ(s.size(), 2u);
  for (const auto& w : s) EXPECT_NE(w.window.x, 16) << "a labelled window was suggested";
  // Allowing labelled windows brings it back, with its labelled fraction reported.
  o.maxLabelledFraction = 1.0;
  const auto all = suggestWindows(*src, false, {field}, o);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].window.x, 16);
  EXPECT_NEAR(all[0].labelledFraction, 1.0, 1e-9);
}

TEST(Suggest, BytesRankLikeFloatsAndCountAndCropFilterApply) {
  auto f = memoryRaster(scene(1.0f));
  auto b = memoryRaster(scene(255.0f));
  SuggestOptions o;
  o.windowPx = 16;
  o.count = 2;
  const auto sf = suggestWindows(*f, false, {}, o);
  const auto sb = suggestWindows(*b, true, {}, o);
  ASSERT_EQ(sf.size(), 2u);
  ASSERT_EQ(sb.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(sf[i].window, sb[i].window);
    EXPECT_NEAR(sf[i].score, sb[i].score, 1e-6);
  }
  o.count = 10;
  o.minMeanExtent = 0.8;  // only window 0 (extent 0.9) holds crop
  SuggestReport rep;
  const auto crop = suggestWindows(*f, false, {}, o, &rep);
  ASSERT_EQ(crop.size(), 1u);
  EXPECT_EQ(crop[0].window.x, 0);
  EXPECT_EQ(rep.skippedNoCrop, 2);
}

TEST(Suggest, BadOptionsAreUsageErrors) {
  auto src = memoryRaster(scene(1.0f));
  SuggestOptions o;
  o.windowPx = 4;
  EXPECT_THROW(suggestWindows(*src, false, {}, o), UsageError);
  o = {};
  o.count = 0;
  EXPECT_THROW(suggestWindows(*src, false, {}, o), UsageError);
  o = {};
  o.maxLabelledFraction = 1.5;
  EXPECT_THROW(suggestWindows(*src, false, {}, o), UsageError);
}

}  // namespace
}  // namespace fieldseg
