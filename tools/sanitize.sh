#!/usr/bin/env bash
# Address + undefined-behaviour sanitizer build of the unit tests that do not need LibTorch, then runs
# them. Usage: tools/sanitize.sh [BUILD_DIR]   (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-asan}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIELDSEG_WITH_TORCH=OFF -DFIELDSEG_SANITIZE=ON >/dev/null
cmake --build "$B" -j "${FIELDSEG_JOBS:-$(nproc)}" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$B" -L unit --output-on-failure -j "${FIELDSEG_JOBS:-$(nproc)}"
