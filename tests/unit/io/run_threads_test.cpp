// io::runOnThreads: every part runs once, the lowest failing part's exception comes back, and a
// system that refuses threads gets the parts run on the calling thread instead of a terminate.
#include "run_threads.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace fieldseg::io {
namespace {

TEST(RunOnThreads, EveryPartRunsOnceAndTheLowestErrorComesBack) {
  std::vector<std::atomic<int>> runs(5);
  runOnThreads(5, [&](int t) { ++runs[static_cast<size_t>(t)]; });
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
  try {
    runOnThreads(4, [](int t) {
      if (t >= 2) throw std::runtime_error("part " + std::to_string(t));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "part 2");
  }
}

TEST(RunOnThreads, RefusedThreadsRunTheirPartsHere) {
  // The second start fails as std::thread does when the system has no more threads.
  for (const int refuseFrom : {1, 2}) {
    std::vector<std::atomic<int>> runs(4);
    std::atomic<int> startCalls{0};
    const std::thread::id caller = std::this_thread::get_id();
    std::vector<std::thread::id> ranOn(4);
    const ThreadStarter refusing = [&](std::function<void()> f) {
      if (++startCalls >= refuseFrom)
        throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
      return std::thread(std::move(f));
    };
    runOnThreads(
        4,
        [&](int t) {
          ++runs[static_cast<size_t>(t)];
          ranOn[static_cast<size_t>(t)] = std::this_thread::get_id();
        },
        refusing);
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1) << "refusing from start " << refuseFrom;
    EXPECT_EQ(ranOn[0], caller);
    for (int t = refuseFrom; t < 4; ++t) EXPECT_EQ(ranOn[static_cast<size_t>(t)], caller) << t;
    if (refuseFrom == 2) {
      EXPECT_NE(ranOn[1], caller);
    }
  }
}

}  // namespace
}  // namespace fieldseg::io
