#!/usr/bin/env bash
# Quicklook PNGs of the two `fieldseg synth` presets (committed under tools/quicklooks/ and shown in
# the README). Usage: tools/make_quicklooks.sh [path/to/fieldseg] [out_dir]
# Needs gdal_translate. The scenes are written to a temp dir and removed afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fieldseg="${1:-$here/../build/tools/fieldseg}"
out="${2:-$here/quicklooks}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# Smallholder at the GSD of the Rwanda PlanetScope chip (4.78 m): 512 px = 2.4 km.
"$fieldseg" -q synth --preset smallholder --profile planetscope --size 512 --gsd 4.78 --seed 1 \
  --out "$tmp/smallholder.tif" --truth "$tmp/smallholder.geojson"
# Large fields at NAIP's 1 m: 2048 px = 2 km (shown at 384 px).
"$fieldseg" -q synth --preset large-fields --profile naip --size 2048 --gsd 1 --seed 1 \
  --out "$tmp/large.tif" --truth "$tmp/large.geojson"

# Bands are red, green, blue, nir: true colour from bands 1-3; reflectance x 10000 stretched 0-2000
# for PlanetScope, DN as is for NAIP.
gdal_translate -q -of PNG -ot Byte -b 1 -b 2 -b 3 -scale 0 2000 0 255 -outsize 384 384 -r average \
  "$tmp/smallholder.tif" "$out/synth_smallholder.png"
gdal_translate -q -of PNG -ot Byte -b 1 -b 2 -b 3 -outsize 384 384 -r average \
  "$tmp/large.tif" "$out/synth_large_fields.png"
rm -f "$out"/*.aux.xml
ls -l "$out"/synth_*.png
