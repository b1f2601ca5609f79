#include <gtest/gtest.h>

#include <cmath>

#include "fieldseg/error.hpp"
#include "fieldseg/tta.hpp"

using namespace fieldseg;

namespace {

// Outputs: band 0 = input band 0 (pointwise), band 1 = column / (cols - 1), band 2 = row / (rows -
// 1) of the tile it was given: the first commutes with every transform, the others do not.
class PositionPredictor : public Predictor {
 public:
  std::vector<std::string> inputBands() const override { return {"red"}; }
  std::vector<Raster<float>> predict(const std::vector<Raster<float>>& tiles) override {
    calls += 1;
    tilesSeen += static_cast<int>(tiles.size());
    std::vector<Raster<float>> out;
    for (const auto& t : tiles) {
      Raster<float> o(3, t.rows, t.cols);
      for (int r = 0; r < t.rows; ++r)
        for (int c = 0; c < t.cols; ++c) {
          o.at(0, r, c) = t.at(0, r, c);
          o.at(1, r, c) = static_cast<float>(c) / (t.cols - 1);
          o.at(2, r, c) = static_cast<float>(r) / (t.rows - 1);
        }
      out.push_back(std::move(o));
    }
    return out;
  }
  int calls = 0, tilesSeen = 0;
};

Raster<float> rampTile(int rows, int cols) {
  Raster<float> t(1, rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t.at(0, r, c) = static_cast<float>(r * 31 + c * 7 % 13) / 500.0f;
  return t;
}

}  // namespace

TEST(TtaPredictor, PointwiseOutputsComeBackWhereTheirPixelWas) {
  for (int n : {1, 2, 4, 8}) {
    PositionPredictor inner;
    auto tta = makeTtaPredictor(inner, n);
    const Raster<float> tile = rampTile(9, 9);
    const auto out = tta->predict({tile, tile});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(inner.calls, 1);  // one batched call for all transforms
    EXPECT_EQ(inner.tilesSeen, 2 * n);
    for (int r = 0; r < 9; ++r)
      for (int c = 0; c < 9; ++c) EXPECT_NEAR(out[1].at(0, r, c), tile.at(0, r, c), 1e-6) << n;
  }
}

TEST(TtaPredictor, AveragesOverTheTransforms) {
  PositionPredictor inner;
  const Raster<float> tile = rampTile(6, 6);
  // 1: the column ramp as is. 2 (identity + mirror): the mean of c and (cols-1-c) = 0.5.
  auto one = makeTtaPredictor(inner, 1)->predict({tile});
  EXPECT_NEAR(one[0].at(1, 2, 1), 1.0 / 5, 1e-6);
  auto two = makeTtaPredictor(inner, 2)->predict({tile});
  auto eight = makeTtaPredictor(inner, 8)->predict({tile});
  for (int r = 0; r < 6; ++r)
    for (int c = 0; c < 6; ++c) {
      EXPECT_NEAR(two[0].at(1, r, c), 0.5, 1e-6);
      EXPECT_NEAR(two[0].at(2, r, c), r / 5.0, 1e-6);  // rows are not mirrored
      EXPECT_NEAR(eight[0].at(1, r, c), 0.5, 1e-6);    // all eight: symmetric in both
      EXPECT_NEAR(eight[0].at(2, r, c), 0.5, 1e-6);
    }
}

TEST(TtaPredictor, RefusesBadCountsAndEightOnNonSquareTiles) {
  PositionPredictor inner;
  EXPECT_THROW(makeTtaPredictor(inner, 3), UsageError);
  EXPECT_THROW(makeTtaPredictor(inner, 0), UsageError);
  auto eight = makeTtaPredictor(inner, 8);
  EXPECT_THROW(eight->predict({rampTile(4, 6)}), UsageError);
  auto four = makeTtaPredictor(inner, 4);
  const auto out = four->predict({rampTile(4, 6)});
  EXPECT_NEAR(out[0].at(2, 0, 0), 0.5, 1e-6);  // identity, mirror, and their 180-degree turns
}
