// Internal to src/io: a fork-join over plain threads (TBB belongs to tiles/), for the few io loops
// that split one read or one write into parts.
#pragma once

#include <functional>

namespace fieldseg::io {

/// Runs work(0) .. work(n - 1) at once, work(0) on the calling thread, and waits for all; then
/// rethrows the exception of the lowest index that threw, if any. n <= 1 runs work(0) alone.
void runOnThreads(int n, const std::function<void(int)>& work);

}  // namespace fieldseg::io
