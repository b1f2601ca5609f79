#!/usr/bin/env bash
# Benchmark of `fieldseg synth`: wall time and peak RSS of 10,000 x 10,000 scenes of both presets.
# Usage: tools/bench_synth.sh [path/to/fieldseg] [size]
# Prints the CPU model (record it with the figures), then /usr/bin/time -v excerpts per preset.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fieldseg="${1:-$here/../build/tools/fieldseg}"
size="${2:-10000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
lscpu | grep 'Model name'
nproc
uptime
for preset in large-fields smallholder; do
  echo "== $preset ${size}x${size}"
  /usr/bin/time -v "$fieldseg" synth --preset "$preset" --size "$size" --seed 1 \
    --out "$tmp/$preset.tif" --truth "$tmp/$preset.fgb" 2>&1 |
    grep -E 'synth:|Elapsed|Maximum resident|User time|System time|Percent of CPU'
  ls -l "$tmp/$preset.tif" "$tmp/$preset.fgb" | awk '{print $5, $9}'
  rm -f "$tmp/$preset".*
done
