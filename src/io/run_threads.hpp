// Internal to src/io: a fork-join over plain threads (TBB belongs to tiles/), for the few io loops
// that split one read or one write into parts.
#pragma once

#include <functional>
#include <thread>

namespace fieldseg::io {

/// Runs work(0) .. work(n - 1) at once, work(0) on the calling thread, and waits for all; then
/// rethrows the exception of the lowest index that threw, if any. n <= 1 runs work(0) alone. Where
/// the system refuses another thread (std::system_error, or std::bad_alloc for its state), the
/// parts not started run on the calling thread after work(0): slower, the same result, never
/// std::terminate.
void runOnThreads(int n, const std::function<void(int)>& work);

/// runOnThreads with the thread start given (tests stand in a refusing one).
using ThreadStarter = std::function<std::thread(std::function<void()>)>;
void runOnThreads(int n, const std::function<void(int)>& work, const ThreadStarter& start);

}  // namespace fieldseg::io
