#include "parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace fieldseg::eval {

int evalThreads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::size_t parallelSlots(std::size_t n, int threads) {
  return std::max<std::size_t>(
      1, std::min<std::size_t>(static_cast<std::size_t>(evalThreads(threads)), n));
}

void parallelFor(std::size_t n, int threads, const std::function<void(std::size_t)>& work,
                 const ProgressFn& progress) {
  parallelForSlots(
      n, threads, [&](std::size_t i, std::size_t) { work(i); }, progress);
}

void parallelForSlots(std::size_t n, int threads,
                      const std::function<void(std::size_t, std::size_t)>& work,
                      const ProgressFn& progress) {
  parallelForSlots(n, threads, work, progress,
                   [](std::function<void()> f) { return std::thread(std::move(f)); });
}

void parallelForSlots(std::size_t n, int threads,
                      const std::function<void(std::size_t, std::size_t)>& work,
                      const ProgressFn& progress, const ThreadStarter& start) {
  const std::size_t t = parallelSlots(n, threads);
  if (t <= 1) {
    for (std::size_t i = 0; i < n; ++i) {
      work(i, 0);
      if (progress) progress(i + 1, n);
    }
    if (n == 0 && progress) progress(0, 0);
    return;
  }
  std::atomic<std::size_t> next{0}, finished{0};
  std::mutex m;
  std::size_t firstFailed = n;
  std::exception_ptr error;
  auto run = [&](std::size_t slot) {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        work(i, slot);
        ++finished;
        if (slot == 0 && progress) progress(finished.load(), n);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (i < firstFailed) {
          firstFailed = i;
          error = std::current_exception();
        }
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  try {
    for (std::size_t k = 1; k < t; ++k) pool.push_back(start([&run, k] { run(k); }));
  } catch (const std::exception&) {  // no more threads: those started and this one share it all
  }
  run(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  if (progress) progress(n, n);
}

}  // namespace fieldseg::eval
