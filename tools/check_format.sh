#!/usr/bin/env bash
# Fails (exit 1) listing the C++ files that clang-format would change.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check_format: clang-format not installed" >&2; exit 1; }
bad=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.cpp' '*.hpp' '*.hpp.in' | grep -v '\.in$')
if ((${#bad[@]})); then
  printf 'check_format: not formatted: %s\n' "${bad[@]}" >&2
  echo "Run: clang-format -i <file>" >&2
  exit 1
fi
echo "check_format: all files formatted" >&2
