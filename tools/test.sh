#!/usr/bin/env bash
# Quick start, command 2: set up, build, and run the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
BUILD_DIR=${FIELDSEG_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${FIELDSEG_JOBS:-$(nproc)}" "$@"
