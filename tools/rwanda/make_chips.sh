#!/usr/bin/env bash
# Training / validation data of the Rwanda competition set (../shared/realdata/rwanda_competition),
# split by blocks (configs/splits/rwanda_blocks.json). For every chip and month:
#   OUTDIR/vrt/rw<chip>_<yyyy_mm>.vrt   the four single-band files stacked (bands red,green,blue,nir)
#   OUTDIR/fields/chip_<chip>.geojson   (a link to) the chip's labelled fields
# and, through `fieldseg labels`, one chip set per split (each month of a chip is one more sample of
# the same labels; unlabelled pixels stay masked):
#   OUTDIR/train/manifest.jsonl         the training chips (all months)
#   OUTDIR/val/manifest.jsonl           the validation chips (all months; scoring only, never tuning)
#   OUTDIR/val_fields.geojson, OUTDIR/train_fields.geojson   the fields of each split, one file
#
# Usage: tools/rwanda/make_chips.sh OUTDIR [FIELDSEG_BINARY]
#   env REALDATA (default ../shared/realdata), CHIPS (only these chips, e.g. "00 01"), MONTHS,
#   GSD (metres; default native 4.78 m: e.g. GSD=2.388657 labels and chips at twice the resolution, the
#   imagery resampled bilinearly as delineate --gsd does), CHIP_PX (default 256 at native GSD, scaled
#   with GSD), BOUNDARY_PX (boundary half-width in pixels at GSD, default 2),
#   STACK=1 (the months as one time stack: OUTDIR/vrt/rw<chip>_stack.vrt has 4 bands per month, named
#   red@<yyyy_mm>, ..., nir@<yyyy_mm>, and each chip is one sample with all of them; for networks whose
#   input_bands are such a stack; score with MONTHS=stack tools/rwanda/score.sh).
set -euo pipefail
out=${1:?usage: tools/rwanda/make_chips.sh OUTDIR [FIELDSEG_BINARY]}
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${2:-}") || exit 1
data=${REALDATA:-$here/../shared/realdata}/rwanda_competition
[[ -d $data/source_train ]] || { echo "rwanda/make_chips: '$data' not found. Set REALDATA." >&2; exit 1; }
split=$here/configs/splits/rwanda_blocks.json
PY=python3; [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3  # Debian's, with osgeo
mkdir -p "$out/vrt" "$out/fields"
read -r -a months <<<"${MONTHS:-$("$PY" -c "import json;print(' '.join(json.load(open('$split'))['months']))")}"
"$PY" - "$data" "$out" "${months[@]}" <<'PY'
import os, sys
from osgeo import gdal
gdal.UseExceptions()
data, out, months = sys.argv[1], sys.argv[2], sys.argv[3:]
for d in sorted(os.listdir(os.path.join(data, "source_train"))):
    if not d.startswith("nasa_rwanda"):
        continue
    chip, month = d.split("_")[-3], "_".join(d.split("_")[-2:])
    if month not in months:
        continue
    dst = os.path.join(out, "vrt", f"rw{chip}_{month}.vrt")
    if os.path.exists(dst):
        continue
    # B01..B04 are blue, green, red, nir: stack them as red, green, blue, nir.
    srcs = [os.path.join(data, "source_train", d, f"B0{i}.tif") for i in (3, 2, 1, 4)]
    vrt = gdal.BuildVRT(dst, srcs, separate=True)
    for i, n in enumerate(["red", "green", "blue", "nir"]):
        vrt.GetRasterBand(i + 1).SetDescription(n)
        vrt.GetRasterBand(i + 1).SetNoDataValue(0)
    vrt = None
if os.environ.get("STACK"):
    chips = sorted({f[2:4] for f in os.listdir(os.path.join(out, "vrt")) if f.startswith("rw") and not f.endswith("_stack.vrt")})
    for chip in chips:
        dst = os.path.join(out, "vrt", f"rw{chip}_stack.vrt")
        srcs, names = [], []
        for month in months:
            d = os.path.join(data, "source_train", f"nasa_rwanda_field_boundary_competition_source_train_{chip}_{month}")
            for i, n in zip((3, 2, 1, 4), ("red", "green", "blue", "nir")):
                srcs.append(os.path.join(d, f"B0{i}.tif"))
                names.append(f"{n}@{month}")
        vrt = gdal.BuildVRT(dst, srcs, separate=True)
        for i, n in enumerate(names):
            vrt.GetRasterBand(i + 1).SetDescription(n)
            vrt.GetRasterBand(i + 1).SetNoDataValue(0)
        vrt = None
PY
bands=red,green,blue,nir
if [[ -n ${STACK:-} ]]; then
  bands=$(for m in "${months[@]}"; do printf 'red@%s,green@%s,blue@%s,nir@%s,' "$m" "$m" "$m" "$m"; done)
  bands=${bands%,}
  months=(stack)
fi
gsd_args=(); chip_px=${CHIP_PX:-256}
if [[ -n ${GSD:-} ]]; then
  gsd_args=(--gsd "$GSD")
  [[ -n ${CHIP_PX:-} ]] || chip_px=$("$PY" -c "print(round(256 * 4.77731426716 / $GSD))")
fi
for s in train val; do
  key=$s; [[ $s == val ]] && key=validation
  mapfile -t chips < <("$PY" -c "import json;print('\n'.join(json.load(open('$split'))['$key']))")
  [[ -n ${CHIPS:-} ]] && mapfile -t chips < <(for c in "${chips[@]}"; do [[ " $CHIPS " == *" $c "* ]] && echo "$c"; done)
  merged=$out/${s}_fields.geojson
  for c in "${chips[@]}"; do
    ln -sf "$data/fields/chip_$c.geojson" "$out/fields/chip_$c.geojson"
    for m in "${months[@]}"; do
      "$fs" -q labels --image "$out/vrt/rw${c}_$m.vrt" --fields "$data/fields/chip_$c.geojson" \
        --bands "$bands" --chips "$out/$s" --chip-px "$chip_px" --chip-stride "$chip_px" \
        --boundary-px "${BOUNDARY_PX:-2}" "${gsd_args[@]}" --min-labelled 0 --overwrite
    done
  done
  files=()
  for c in "${chips[@]}"; do files+=("$data/fields/chip_$c.geojson"); done
  "$PY" "$here/tools/rwanda/merge_geojson.py" "$merged" "${files[@]}" --keep-properties --tag-chip
  echo "rwanda/make_chips: $s: ${#chips[@]} chips, $(wc -l <"$out/$s/manifest.jsonl") chip-months," \
    "$("$PY" -c "import json;print(len(json.load(open('$merged'))['features']))") fields" >&2
done
