#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run fieldseg's main job on its embedded default input.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
BUILD_DIR=${FIELDSEG_BUILD_DIR:-build}
OUT=${FIELDSEG_DEMO_OUT:-out/demo}
mkdir -p "$OUT"
FS="$BUILD_DIR/fieldseg"
if "$FS" --help 2>/dev/null | grep -q '^ *synth'; then
  "$FS" synth --preset smallholder --size 1024 --gsd 3 --seed 7 --out "$OUT/scene.tif" \
    --truth "$OUT/truth.geojson" --overwrite
  "$FS" info "$OUT/scene.tif"
else
  "$FS" info ../shared/realdata/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif
fi
