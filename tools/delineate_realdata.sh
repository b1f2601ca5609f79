#!/usr/bin/env bash
# Runs `fieldseg delineate` + `fieldseg render` with a model on the four real scenes of
# ../shared/realdata (issue 6, acceptance 4) and scores the Rwanda chip against its partial labels.
#
# Usage: tools/delineate_realdata.sh MODEL.fsm OUTDIR [--fieldseg PATH] [--realdata DIR]
# Writes OUTDIR/<scene>.geojson, <scene>.geojson.run.json, <scene>.png (quicklook) and rwanda_eval.txt.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
[[ $# -ge 2 ]] || { sed -n '2,7p' "$0"; exit 2; }
model="$1"; out="$2"; shift 2
fieldseg=""
realdata="$here/../shared/realdata"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --fieldseg) fieldseg="$2"; shift 2 ;;
    --realdata) realdata="$2"; shift 2 ;;
    *) echo "delineate_realdata: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ -z "$fieldseg" ]]; then
  for b in "$here"/build*/tools/fieldseg; do
    [[ -x "$b" ]] && "$b" delineate --help 2>/dev/null | grep -q -- --model && fieldseg="$b" && break
  done
fi
[[ -x "$fieldseg" ]] || { echo "delineate_realdata: no fieldseg built with LibTorch; pass --fieldseg" >&2; exit 1; }
[[ -d "$realdata" ]] || { echo "delineate_realdata: no real data at '$realdata'" >&2; exit 1; }
mkdir -p "$out"

# The model's input bands decide the selection: RGB models get R,G,B; RGB+NIR models R,G,B,NIR
# (scenes without NIR are skipped for them).
nbands="$("$fieldseg" info "$model" 2>/dev/null | sed -n 's/.*"in_bands": *\([0-9]*\).*/\1/p' | head -1)"
# name | image | R,G,B | R,G,B,NIR
scenes=(
  "rwanda_planetscope|$realdata/rwanda_planetscope/prepared/rwanda_planetscope_chip.tif|red,green,blue|red,green,blue,nir"
  "opengeos_naip_north_dakota|$realdata/opengeos_naip_north_dakota/m_4709963_se_14_1_20200831.tif|1,2,3|1,2,3,4"
  "ftw_austria_s2|$realdata/ftw_austria_s2/inference-img.tif|1,2,3|1,2,3,4"
  "ai4smallfarms_cambodia_s2|$realdata/ai4smallfarms_cambodia_s2/12_cambodia.tif|3,2,1|"
)
for s in "${scenes[@]}"; do
  IFS='|' read -r name img rgb rgbn <<< "$s"
  bands="$rgb"
  [[ "$nbands" == 4 ]] && bands="$rgbn"
  if [[ -z "$bands" ]]; then echo "delineate_realdata: $name has no NIR band; skipped for this model"; continue; fi
  "$fieldseg" delineate "$img" --model "$model" --bands "$bands" --out "$out/$name.geojson" \
    --probabilities "$out/$name.probs.tif" --overwrite
  "$fieldseg" render --image "$img" --bands "$rgb" --fields "$out/$name.geojson" \
    --out "$out/$name.png" --max-side 1024 --line-width 1 --overwrite
done
"$fieldseg" evaluate --pred "$out/rwanda_planetscope.geojson" \
  --truth "$realdata/rwanda_planetscope/prepared/fields.geojson" --partial | tee "$out/rwanda_eval.txt"
