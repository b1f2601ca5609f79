#!/usr/bin/env bash
# Batch overhead benchmark: one synthetic scene delineated (oracle probabilities, so the network is
# not measured) as a single process, as a 4 x 4 grid in one task, as two parallel tasks of one
# thread each, then merged; checks the merge equals the single run.
#   tools/bench_batch.sh [BUILD_DIR] [SIZE_PX]      (defaults: build, 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-2048}
F=$(readlink -f "$B/fieldseg")
[[ -x "$F" ]] || F=$(readlink -f "$B/tools/fieldseg")
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
lscpu | grep -E 'Model name|^CPU\(s\)' || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$F" -q synth --preset smallholder --size "$N" --seed 2 --out scene.tif --truth truth.geojson
"$F" -q labels --image scene.tif --fields truth.geojson --out labels.tif
cell=$(awk -v n="$N" 'BEGIN { print n / 4 * 3 }')  # 3 m pixels, 4 x 4 cells
"$F" -q grid --images scene.tif --cell-m "$cell" --snap-to-extent --out grid.json
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }'; }
single=$(t "$F" -q delineate scene.tif --probabilities-in labels.tif --out single.gpkg --threads 2)
grid1=$(t "$F" -q delineate --grid grid.json --out-dir out1 --probabilities-in labels.tif --cell-halo-px 96 --threads 2)
s=$(date +%s.%N)
"$F" -q delineate --grid grid.json --out-dir out2 --probabilities-in labels.tif --cell-halo-px 96 --threads 1 --shard-index 0 --shard-count 2 >/dev/null &
"$F" -q delineate --grid grid.json --out-dir out2 --probabilities-in labels.tif --cell-halo-px 96 --threads 1 --shard-index 1 --shard-count 2 >/dev/null
wait
e=$(date +%s.%N)
grid2=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }')
merge=$(t "$F" -q merge --grid grid.json --in-dir out2 --out merged.gpkg)
cmp=$("$PY" "$OLDPWD/tests/integration/compare_fields.py" single.gpkg merged.gpkg)
echo "scene ${N}x${N} px, 16 cells, halo 96 px: single ${single} s; grid 1 task x 2 threads ${grid1} s; grid 2 tasks x 1 thread ${grid2} s; merge ${merge} s; ${cmp}"
