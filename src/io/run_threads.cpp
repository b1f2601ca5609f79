#include "run_threads.hpp"

#include <exception>
#include <thread>
#include <vector>

namespace fieldseg::io {

void runOnThreads(int n, const std::function<void(int)>& work) {
  if (n <= 1) return work(0);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  auto guarded = [&](int t) {
    try {
      work(t);
    } catch (...) {
      errors[static_cast<size_t>(t)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(guarded, t);
  guarded(0);
  for (auto& th : pool) th.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace fieldseg::io
