#!/usr/bin/env bash
# Benchmark of `fieldseg delineate`: peak RSS (/usr/bin/time -v) and throughput for a small and a
# large synthetic scene, to check that memory is bounded by the tiles in flight (issue 6,
# acceptance 5: RSS(10000^2) within 1.5x of RSS(2000^2)).
#
# Usage: tools/bench_delineate.sh [--model MODEL.fsm] [--sizes "2000 10000"] [--threads N]
#                                 [--format geojsonl|fgb|gpkg|geojson] [--work DIR] [--fieldseg PATH]
# Without --model the probabilities come from the synth truth (`fieldseg labels`, the oracle), so
# the run measures reading, instances, polygons and writing; with --model it also runs the network.
# Prints one line per scene and a summary with `lscpu` model name and thread count. The default
# output format is GeoJSONSeq (streamed); FlatGeobuf's writer keeps a spatial index of every
# feature in memory, which adds ~0.4 KB per field to the peak RSS.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
fieldseg="${FIELDSEG:-}"
model=""
sizes="2000 10000"
threads=0
format=geojsonl
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --fieldseg) fieldseg="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench_delineate: unknown argument '$1'. See --help." >&2; exit 2 ;;
  esac
done
if [[ -z "$fieldseg" ]]; then
  for b in "$here"/build*/tools/fieldseg; do [[ -x "$b" ]] && fieldseg="$b" && break; done
fi
[[ -x "$fieldseg" ]] || { echo "bench_delineate: no fieldseg binary; pass --fieldseg PATH" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench_delineate: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
if [[ -z "$work" ]]; then work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"

cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
nthreads="$threads"; [[ "$nthreads" == 0 ]] && nthreads="$(nproc) (all)"
echo "bench_delineate: $cpu, threads $nthreads, output .$format, $("$fieldseg" --version)"

declare -A rss
for n in $sizes; do
  scene="$work/scene_$n.tif"
  if [[ ! -f "$scene" ]]; then
    "$fieldseg" -q synth --preset smallholder --size "$n" --seed 1 --out "$scene" \
      --truth "$work/truth_$n.fgb"
  fi
  if [[ -n "$model" ]]; then
    src=(--model "$model")
  else
    [[ -f "$work/labels_$n.tif" ]] || "$fieldseg" -q labels --image "$scene" \
      --fields "$work/truth_$n.fgb" --out "$work/labels_$n.tif"
    src=(--probabilities-in "$work/labels_$n.tif")
  fi
  log="$work/time_$n.log"
  /usr/bin/time -v "$fieldseg" delineate "$scene" "${src[@]}" --threads "$threads" \
    --out "$work/fields_$n.$format" --overwrite 2> "$log" >/dev/null
  kb="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")"
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")"
  cpu_s="$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$log")"
  summary="$(grep '^delineate:' "$log" | tail -1)"
  secs="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['timings_s']['total'])" \
    "$work/fields_$n.$format.run.json")"
  mpx="$(python3 -c "print(f'{$n*$n/1e6/$secs:.2f}')")"
  rss[$n]="$kb"
  echo "scene ${n}x${n}: peak RSS $((kb / 1024)) MiB, wall $wall, cpu ${cpu_s} s, $mpx Mpx/s"
  echo "  $summary"
done
set -- $sizes
if [[ $# -ge 2 ]]; then
  first="$1"; last="${!#}"
  python3 -c "print(f'bench_delineate: RSS ratio {$last}^2 / {$first}^2 = {${rss[$last]}/${rss[$first]}:.2f} (acceptance: <= 1.5)')"
fi
