#include "run_threads.hpp"

#include <exception>
#include <vector>

namespace fieldseg::io {

void runOnThreads(int n, const std::function<void(int)>& work) {
  runOnThreads(n, work, [](std::function<void()> f) { return std::thread(std::move(f)); });
}

void runOnThreads(int n, const std::function<void(int)>& work, const ThreadStarter& start) {
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
  pool.reserve(static_cast<size_t>(n - 1));
  int started = 1;
  try {
    for (; started < n; ++started) pool.push_back(start([&guarded, started] { guarded(started); }));
  } catch (const std::exception&) {  // no more threads (or no memory for one): the rest run here
  }
  guarded(0);
  for (int t = started; t < n; ++t) guarded(t);
  for (auto& th : pool) th.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace fieldseg::io
