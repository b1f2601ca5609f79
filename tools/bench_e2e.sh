#!/usr/bin/env bash
# End-to-end benchmark: `fieldseg delineate` with a real model against the Python research
# pipeline (tools/bench_python_pipeline.py: PyTorch + rasterio + scikit-image, the same network
# and weights, 512 px tiles, 64 px halo), paired on the same synthetic smallholder scenes in one
# run, with fieldseg's per-stage times (-v), peak RSS of both, `lscpu` and the CPU's FMA peak
# measured in the same run (bench_fma). Run by hand on an otherwise idle host; never a test.
#
# Usage: tools/bench_e2e.sh [--sizes "4096 10000"] [--threads 2] [--model models/smallholder.fsm]
#                           [--repeat 1] [--python-max 4096] [--work DIR] [--fieldseg PATH]
#   --repeat N      runs per scene and pipeline; the median wall time is reported
#   --python-max S  scenes larger than S px are run by fieldseg only (the Python pipeline holds
#                   the whole scene and its probabilities in memory: ~60 B/px)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
fieldseg="${FIELDSEG:-}"
model="$here/models/smallholder.fsm"
sizes="4096 10000"
threads=2
repeat=1
pymax=4096
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --python-max) pymax="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --fieldseg) fieldseg="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench_e2e: unknown argument '$1'. See --help." >&2; exit 2 ;;
  esac
done
source "$here/tools/find_fieldseg.sh"
fieldseg=$(find_fieldseg "$fieldseg") || exit 1
[[ -x /usr/bin/time ]] || { echo "bench_e2e: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
PY=/usr/bin/python3
"$PY" -c "import torch, rasterio, skimage" 2>/dev/null || {
  echo "bench_e2e: the Python pipeline needs python3-torch python3-rasterio python3-skimage (apt)" >&2
  exit 1
}
if [[ -z "$work" ]]; then work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"

echo "bench_e2e: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) CPUs," \
  "AMX-BF16 $(grep -q amx_bf16 /proc/cpuinfo && echo yes || echo no)," \
  "AVX512-BF16 $(grep -q avx512_bf16 /proc/cpuinfo && echo yes || echo no)," \
  "AVX-512 $(grep -q avx512f /proc/cpuinfo && echo yes || echo no); threads $threads;" \
  "$("$fieldseg" --version)"
fma="$(dirname "$fieldseg")/bench_fma"
[[ -x "$fma" ]] && "$fma" "$threads" 1 || echo "bench_e2e: no bench_fma beside fieldseg; FMA peak not measured"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# wall seconds and peak RSS (MiB) of a /usr/bin/time -v log
wall_s() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" |
  awk -F: '{s = 0; for (i = 1; i <= NF; ++i) s = s * 60 + $i; print s}'; }
rss_mib() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1" | awk '{printf "%d", $1 / 1024}'; }

for n in $sizes; do
  scene="$work/scene_$n.tif"
  # 4 m: inside the smallholder card's GSD range, so --gsd auto reads it as it is.
  [[ -f "$scene" ]] || "$fieldseg" -q synth --preset smallholder --size "$n" --gsd 4 --seed 11 \
    --out "$scene" --truth "$work/truth_$n.fgb"
  mpx=$("$PY" -c "print($n * $n / 1e6)")
  fs_walls=() py_walls=()
  for ((r = 1; r <= repeat; ++r)); do
    /usr/bin/time -v "$fieldseg" -v delineate "$scene" --model "$model" --threads "$threads" \
      --out "$work/fs_$n.geojsonl" --overwrite 2> "$work/fs_$n.log" >/dev/null
    fs_walls+=("$(wall_s "$work/fs_$n.log")")
    if (( n <= pymax )); then
      /usr/bin/time -v "$PY" "$here/tools/bench_python_pipeline.py" "$scene" "$model" \
        "$work/py_$n.geojson" --threads "$threads" > "$work/py_$n.json" 2> "$work/py_$n.log"
      py_walls+=("$(wall_s "$work/py_$n.log")")
    fi
  done
  fs=$(median "${fs_walls[@]}")
  echo "scene ${n}x${n} ($mpx Mpx), median of $repeat:"
  echo "  fieldseg: wall $fs s = $("$PY" -c "print(f'{$mpx / $fs:.2f}')") Mpx/s," \
    "peak RSS $(rss_mib "$work/fs_$n.log") MiB"
  grep '^delineate: ' "$work/fs_$n.log" | sed 's/^/    /'
  if (( n <= pymax )); then
    py=$(median "${py_walls[@]}")
    echo "  python:   wall $py s = $("$PY" -c "print(f'{$mpx / $py:.2f}')") Mpx/s," \
      "peak RSS $(rss_mib "$work/py_$n.log") MiB; stages $(cat "$work/py_$n.json")"
    echo "  fieldseg / python speed: $("$PY" -c "print(f'{$py / $fs:.1f}x')")"
  fi
done
