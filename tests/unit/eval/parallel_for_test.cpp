// eval::parallelFor / parallelForSlots: every index runs once, one worker at a time per slot, the
// lowest failing index's exception comes back, and a system that refuses threads gets the
// indices run by the workers that exist instead of a terminate.
#include "parallel_for.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace fieldseg::eval {
namespace {

TEST(ParallelFor, EveryIndexRunsOnceOneWorkerASlotAndTheLowestErrorComesBack) {
  constexpr std::size_t kN = 64;
  const std::size_t slots = parallelSlots(kN, 3);
  ASSERT_EQ(slots, 3u);
  std::vector<std::atomic<int>> runs(kN);
  std::vector<std::atomic<int>> busy(slots);
  std::atomic<bool> shared{false};
  std::size_t lastDone = 0;
  parallelForSlots(
      kN, 3,
      [&](std::size_t i, std::size_t slot) {
        ASSERT_LT(slot, slots);
        if (++busy[slot] != 1) shared = true;
        ++runs[i];
        --busy[slot];
      },
      [&](std::size_t done, std::size_t n) {
        EXPECT_EQ(n, kN);
        lastDone = done;
      });
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
  EXPECT_FALSE(shared.load()) << "two workers ran in one slot at once";
  EXPECT_EQ(lastDone, kN);
  try {
    parallelFor(kN, 3, [](std::size_t i) {
      if (i >= 20 && i % 7 == 0) throw std::runtime_error("index " + std::to_string(i));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "index 21");
  }
}

TEST(ParallelFor, RefusedThreadsLeaveTheIndicesToTheWorkersThatExist) {
  // The start fails from its first or second call on, as std::thread does when the system has no
  // more threads (or no memory for one).
  for (const int refuseFrom : {1, 2}) {
    constexpr std::size_t kN = 40;
    std::vector<std::atomic<int>> runs(kN);
    std::atomic<int> startCalls{0};
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> onCaller{0};
    const ThreadStarter refusing = [&](std::function<void()> f) {
      if (++startCalls >= refuseFrom) {
        if (refuseFrom == 1) throw std::bad_alloc();
        throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
      }
      return std::thread(std::move(f));
    };
    std::size_t lastDone = 0;
    parallelForSlots(
        kN, 4,
        [&](std::size_t i, std::size_t) {
          ++runs[i];
          if (std::this_thread::get_id() == caller) ++onCaller;
        },
        [&](std::size_t done, std::size_t) { lastDone = done; }, refusing);
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1) << "refusing from start " << refuseFrom;
    EXPECT_EQ(lastDone, kN);
    EXPECT_EQ(startCalls.load(), refuseFrom) << "no start tried after a refusal";
    if (refuseFrom == 1) {
      EXPECT_EQ(onCaller.load(), static_cast<int>(kN));
    }
  }
}

}  // namespace
}  // namespace fieldseg::eval
