#!/usr/bin/env bash
# Builds every training chip set of the project into OUTDIR (see weak_labels/README.md):
#   OUTDIR/naip_train   25 NAIP scenes (sorted by name, all but the last 5), scales 1,2,3,5 (1,2,3,5 m)
#   OUTDIR/naip_val     the last 5 NAIP scenes, same scales (source-domain validation)
#   OUTDIR/rwanda_west  Rwanda PlanetScope, west half of the 43 fields (fine-tuning), 4.78 m
#   OUTDIR/rwanda_east  Rwanda PlanetScope, east half (evaluation / validation chips), 4.78 m
#   OUTDIR/split/       the two Rwanda halves as GeoJSON, OUTDIR/labels/ full-scene label rasters
# Every chip set has its own manifest.jsonl (contracts.md). Image chips hold red,green,blue only, so
# the source and target chips share one input layout.
#
# Usage: tools/make_chips.sh OUTDIR [FIELDSEG_BINARY]
#   env REALDATA (default ../shared/realdata), NAIP_SCALES (default 1,2,3,5),
#   RWANDA_SCALES (default 1), CHIP_PX / CHIP_STRIDE (NAIP, default 256 / 192),
#   RW_CHIP_PX / RW_CHIP_STRIDE (Rwanda, default 128 / 32: the scene is only 256 px).
set -euo pipefail
out=${1:?usage: tools/make_chips.sh OUTDIR [FIELDSEG_BINARY]}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${2:-}") || exit 1
data=${REALDATA:-$here/../shared/realdata}
naip=$data/agoro_naip_us_midwest/georeferenced
rw=$data/rwanda_planetscope/prepared
[[ -d $naip && -d $rw ]] || { echo "make_chips: real data not found under '$data'. Set REALDATA." >&2; exit 1; }
naip_scales=${NAIP_SCALES:-1,2,3,5}
rw_scales=${RWANDA_SCALES:-1}
chip=${CHIP_PX:-256}; stride=${CHIP_STRIDE:-192}
rwchip=${RW_CHIP_PX:-128}; rwstride=${RW_CHIP_STRIDE:-32}
mkdir -p "$out/labels"

mapfile -t scenes < <(ls "$naip"/*.vrt | sort)
nval=5
ntrain=$(( ${#scenes[@]} - nval ))
i=0
for s in "${scenes[@]}"; do
  set_dir=$out/naip_train
  (( i >= ntrain )) && set_dir=$out/naip_val
  "$fs" -q labels --image "$s" --fields "${s%.vrt}.geojson" --bands red,green,blue \
    --scales "$naip_scales" --chips "$set_dir" --chip-px "$chip" --chip-stride "$stride" \
    --min-labelled 0.05 --overwrite
  i=$((i + 1))
done

"$here"/tools/split_rwanda.sh "$out/split" "$rw/fields.geojson"
for half in west east; do
  "$fs" -q labels --image "$rw/rwanda_planetscope_chip.tif" --fields "$rw/fields.geojson" \
    --split "$half" --bands red,green,blue --scales "$rw_scales" \
    --out "$out/labels/rwanda_${half}_labels.tif" --chips "$out/rwanda_$half" \
    --chip-px "$rwchip" --chip-stride "$rwstride" --min-labelled 0.05 --overwrite
done
for d in naip_train naip_val rwanda_west rwanda_east; do
  echo "make_chips: $d: $(wc -l < "$out/$d/manifest.jsonl") chips" >&2
done
