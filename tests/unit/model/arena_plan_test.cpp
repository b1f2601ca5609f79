// ArenaPlan: buffers alive at the same step never share a byte, the arena is far smaller than
// the buffers' sum when their lives do not overlap, and no larger than the best of its orders.
#include "arena_plan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "fieldseg/error.hpp"

namespace fieldseg::model {
namespace {

struct Life {
  size_t bytes;
  int first, last;
};

TEST(ArenaPlan, BuffersAliveTogetherNeverShareBytes) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    ArenaPlan plan;
    std::vector<Life> lives;
    for (int i = 0; i < 40; ++i) {
      const int first = static_cast<int>(rng() % 30);
      const Life l{1 + rng() % 5000, first, first + static_cast<int>(rng() % 6)};
      lives.push_back(l);
      const int id = plan.add(l.bytes, l.first, l.first);
      plan.extend(id, l.last);
    }
    plan.place(64);
    ASSERT_GE(plan.bytes(), plan.peakLive());
    ASSERT_LE(plan.bytes(), plan.sum() + 64 * lives.size());
    for (size_t i = 0; i < lives.size(); ++i) {
      const size_t oi = plan.offset(static_cast<int>(i));
      EXPECT_EQ(oi % 64, 0u);
      EXPECT_LE(oi + lives[i].bytes, plan.bytes());
      for (size_t j = i + 1; j < lives.size(); ++j) {
        const bool together = lives[i].first <= lives[j].last && lives[j].first <= lives[i].last;
        if (!together) continue;
        const size_t oj = plan.offset(static_cast<int>(j));
        EXPECT_TRUE(oi + lives[i].bytes <= oj || oj + lives[j].bytes <= oi)
            << "trial " << trial << ": buffers " << i << " and " << j << " overlap";
      }
    }
  }
}

TEST(ArenaPlan, AChainOfBuffersNeedsTwo) {
  // Each step reads the buffer before it and writes the next: two buffers' worth in all.
  ArenaPlan plan;
  for (int s = 0; s < 10; ++s) plan.add(4096, s, s + 1);
  plan.place(64);
  EXPECT_EQ(plan.peakLive(), 2u * 4096);
  EXPECT_EQ(plan.bytes(), 2u * 4096);
  EXPECT_EQ(plan.sum(), 10u * 4096);
}

TEST(ArenaPlan, AnotherOrderFillsTheGapLargestFirstLeaves) {
  // Largest first puts the 4-unit buffer (steps 0-1) at 0, the 3-unit one (steps 2-4) at 0 too,
  // the 2-unit one of steps 1-3 above both (at 4), and the one of steps 3-5 finds no 2-unit gap
  // below 6: 8 units. Longest-lived first packs all four into the 7 units live at step 3.
  constexpr size_t u = 64;
  ArenaPlan plan;
  plan.add(2 * u, 3, 5);
  plan.add(2 * u, 1, 3);
  plan.add(4 * u, 0, 1);
  plan.add(3 * u, 2, 4);
  plan.place(64);
  EXPECT_EQ(plan.peakLive(), 7 * u);
  EXPECT_EQ(plan.bytes(), 7 * u);
}

TEST(ArenaPlan, ABufferMustBeWrittenBeforeItDies) {
  ArenaPlan plan;
  EXPECT_THROW(plan.add(16, 3, 2), Error);
}

}  // namespace
}  // namespace fieldseg::model
