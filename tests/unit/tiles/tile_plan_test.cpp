#include "fieldseg/tile_plan.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "fieldseg/error.hpp"

using namespace fieldseg;

// Property: for many raster, tile and halo sizes every pixel lies in exactly one core, each read
// window contains its core, extends it by at most the halo, and never leaves the raster.
TEST(TilePlan, CoresPartitionRasterAndReadsStayInside) {
  for (int w : {1, 7, 64, 255, 256, 257, 1000}) {
    for (int h : {1, 5, 128, 300}) {
      for (int tile : {1, 16, 100, 256, 512}) {
        for (int halo : {0, 3, 32, 200}) {
          TilePlan plan(w, h, tile, halo);
          std::vector<int> hits(static_cast<size_t>(w) * h, 0);
          int id = 0;
          for (const auto& t : plan.tiles()) {
            ASSERT_EQ(t.id, id++);
            ASSERT_FALSE(t.core.empty());
            for (int r = t.core.y; r < t.core.y + t.core.height; ++r)
              for (int c = t.core.x; c < t.core.x + t.core.width; ++c) ++hits[r * w + c];
            ASSERT_GE(t.read.x, 0);
            ASSERT_GE(t.read.y, 0);
            ASSERT_LE(t.read.x + t.read.width, w);
            ASSERT_LE(t.read.y + t.read.height, h);
            ASSERT_EQ(t.read.intersect(t.core), t.core);
            ASSERT_GE(t.read.x, t.core.x - halo);
            ASSERT_LE(t.read.x + t.read.width, t.core.x + t.core.width + halo);
            // The halo is as large as the raster allows.
            ASSERT_EQ(t.read.x, std::max(0, t.core.x - halo));
            ASSERT_EQ(t.read.y + t.read.height, std::min(h, t.core.y + t.core.height + halo));
          }
          for (int v : hits) ASSERT_EQ(v, 1) << w << "x" << h << " tile " << tile;
          ASSERT_EQ(plan.tiles().size(), static_cast<size_t>(plan.tilesX()) * plan.tilesY());
        }
      }
    }
  }
}

TEST(TilePlan, RowMajorDeterministicOrder) {
  TilePlan a(1000, 700, 256, 32), b(1000, 700, 256, 32);
  ASSERT_EQ(a.tiles().size(), 12u);
  for (size_t i = 0; i < a.tiles().size(); ++i) {
    EXPECT_EQ(a.tiles()[i].core, b.tiles()[i].core);
    EXPECT_EQ(a.tiles()[i].row, static_cast<int>(i) / 4);
    EXPECT_EQ(a.tiles()[i].col, static_cast<int>(i) % 4);
  }
  EXPECT_EQ(a.tiles().back().core, (PixelWindow{768, 512, 232, 188}));
}

TEST(TilePlan, RejectsBadParameters) {
  EXPECT_THROW(TilePlan(0, 10, 256, 0), UsageError);
  EXPECT_THROW(TilePlan(10, 10, 0, 0), UsageError);
  EXPECT_THROW(TilePlan(10, 10, 256, -1), UsageError);
}
