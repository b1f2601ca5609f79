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

void parallelFor(std::size_t n, int threads, const std::function<void(std::size_t)>& work) {
  const std::size_t t = std::min<std::size_t>(static_cast<std::size_t>(evalThreads(threads)), n);
  if (t <= 1) {
    for (std::size_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex m;
  std::size_t firstFailed = n;
  std::exception_ptr error;
  auto run = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        work(i);
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
  for (std::size_t k = 1; k < t; ++k) pool.emplace_back(run);
  run();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace fieldseg::eval
