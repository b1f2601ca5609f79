// Internal to src/eval: a loop over independent indices on plain threads (TBB belongs to tiles/).
// Callers keep their results per index and combine them in index order afterwards, so a sum comes
// out bit for bit the same for any thread count.
#pragma once

#include <cstddef>
#include <functional>
#include <thread>

namespace fieldseg::eval {

/// progress(done, n): how many indices have finished; called on the calling thread only (after
/// each index it ran itself, and once at the end with done = n), so it may draw a progress bar.
using ProgressFn = std::function<void(std::size_t done, std::size_t n)>;

/// Calls work(i) for i in [0, n) on min(threads, n) threads (threads <= 0: the hardware's;
/// 1: all on the calling thread), handing out indices one at a time (the work per index varies
/// widely). Waits for all; then rethrows the exception of the lowest index that threw, if any.
void parallelFor(std::size_t n, int threads, const std::function<void(std::size_t)>& work,
                 const ProgressFn& progress = {});

/// The same, work(i, slot) also told which worker runs it: slot in [0, parallelSlots(n, threads)),
/// one worker at a time per slot, so per-worker state can be a plain vector indexed by slot.
void parallelForSlots(std::size_t n, int threads,
                      const std::function<void(std::size_t, std::size_t)>& work,
                      const ProgressFn& progress = {});

/// parallelForSlots with the thread start given (tests stand in one that refuses). Where the
/// system refuses a thread (any std::exception from `start`), the workers started and the calling
/// thread share all the indices: slower, the same results, never std::terminate.
using ThreadStarter = std::function<std::thread(std::function<void()>)>;
void parallelForSlots(std::size_t n, int threads,
                      const std::function<void(std::size_t, std::size_t)>& work,
                      const ProgressFn& progress, const ThreadStarter& start);

/// How many workers parallelFor(n, threads, ...) runs: min(evalThreads(threads), n), at least 1.
std::size_t parallelSlots(std::size_t n, int threads);

/// The thread count `threads` asks for (<= 0: the hardware's).
int evalThreads(int threads);

}  // namespace fieldseg::eval
