// The network's raster-wide tile grid (tiles/predict_pass.hpp): balanced, square cells in
// multiples of 16 that depend only on the raster's size, --tile-px and --halo-px.
#include <gtest/gtest.h>

#include "predict_pass.hpp"

namespace fieldseg {
namespace {

TEST(NetworkTileGrid, CellsAreBalancedMultiplesOf16) {
  EXPECT_EQ(balancedTileLength(1024, 512), 512);  // 2 x 512, nothing wasted
  EXPECT_EQ(balancedTileLength(1100, 512), 368);  // 3 x 368, not 512 + 512 + 76
  EXPECT_EQ(balancedTileLength(256, 512), 256);   // a small chip: one cell of its own size
  EXPECT_EQ(balancedTileLength(250, 512), 256);   // rounded up to 16
  EXPECT_EQ(balancedTileLength(1000, 500), 512);  // 2 cells of 500, rounded up to 16
  EXPECT_EQ(balancedTileLength(20000, 512), 512);
  for (int side : {1, 17, 300, 513, 4097, 10000})
    for (int tile : {64, 200, 512}) {
      const int t = balancedTileLength(side, tile);
      const int n = (side + tile - 1) / tile;
      SCOPED_TRACE(std::to_string(side) + " / " + std::to_string(tile));
      EXPECT_EQ(t % 16, 0);
      EXPECT_GE(static_cast<long long>(t) * n, side);  // n cells cover the side
      EXPECT_LT(t, tile + 16);                         // never much above --tile-px
    }
}

TEST(NetworkTileGrid, SquareCellsFromTheLongerAxis) {
  const NetworkTileGrid g = networkTileGrid(1100, 600, 512, 64);
  EXPECT_EQ(g.tileX, 368);
  EXPECT_EQ(g.tileY, 368);  // 600 alone would give 304: square for --tta 8's rotations
  EXPECT_EQ(g.haloPx, 64);
}

}  // namespace
}  // namespace fieldseg
