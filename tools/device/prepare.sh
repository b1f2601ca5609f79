#!/usr/bin/env bash
# Prepares everything a GPU training run needs that the GPU machine lacks, into one folder
# (default .devdeps, which .git/info/exclude should ignore): the header-only dependencies, the
# training chips packed as .fsc (pack_chips.py), the label-efficiency subsets (Rwanda west half
# and a synthetic smallholder scene) and one training config per run (jobs/*.json).
# Usage: tools/device/prepare.sh [DIR]   (run from the repository root, after tools/setup.sh and
# tools/make_chips.sh). See tools/device/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
D=${1:-.devdeps}
source tools/find_fieldseg.sh 2>/dev/null && fs=$(find_fieldseg) || fs=$here/build/tools/fieldseg
[[ -x $fs ]] || { echo "prepare: no fieldseg binary (build it with tools/setup.sh)" >&2; exit 1; }
command -v jq >/dev/null || { echo "prepare: needs jq" >&2; exit 1; }
data=${REALDATA:-$here/../shared/realdata}
rw=$data/rwanda_planetscope/prepared
pack=tools/device/pack_chips.py
rm -rf "$D"
mkdir -p "$D/include" "$D/chips" "$D/jobs" "$D/work"
cp -r /usr/include/nlohmann /usr/include/CLI "$D/include/"
[[ -f out/chips/naip/manifest.jsonl && -f out/chips/rwanda_west/manifest.jsonl ]] ||
  { echo "prepare: make the chips first (tools/make_chips.sh)" >&2; exit 1; }
/usr/bin/python3 $pack out/chips/naip "$D/chips/naip" --max-scale 1 --png-crops
/usr/bin/python3 $pack out/chips/rwanda_west "$D/chips/rwanda_west"

# Rwanda label-efficiency subsets: nested, fixed pseudo-random order (as tools/transfer_experiment.sh).
tools/split_rwanda.sh "$D/work/split" "$rw/fields.geojson"
west=$D/work/split/rwanda_fields_west.geojson
nwest=$(ogrinfo -ro -so "$west" fields_west | sed -n 's/^Feature Count: //p')
for k in ${RW_SIZES:-2 5 10} $nwest; do
  ogr2ogr -overwrite -f GeoJSON -lco RFC7946=YES "$D/work/rw_$k.geojson" "$west" -dialect SQLite \
    -sql "SELECT * FROM fields_west ORDER BY (rowid * 37) % 101 LIMIT $k" -nln fields
  "$fs" -q labels --image "$rw/rwanda_planetscope_chip.tif" --fields "$D/work/rw_$k.geojson" \
    --chips "$D/work/rw_chips_$k" --chip-px 128 --chip-stride 32 --min-labelled 0 --overwrite \
    --out "$D/work/rw_labels_$k.tif"
  /usr/bin/python3 $pack "$D/work/rw_chips_$k" "$D/chips/rw_$k"
done

# Synthetic smallholder label efficiency: one training scene, nested subsets of its true fields.
syn=$D/work/synth
mkdir -p "$syn"
"$fs" -q synth --preset smallholder --size 1024 --gsd 3 --seed 101 --out "$syn/train.tif" \
  --truth "$syn/train_truth.gpkg" --overwrite
nsyn=$(ogrinfo -ro -so "$syn/train_truth.gpkg" | sed -n 's/^1: \([^ ]*\).*/\1/p')
for k in ${SYN_SIZES:-10 30 100 300 1000}; do
  ogr2ogr -overwrite -f GPKG "$syn/sub_$k.gpkg" "$syn/train_truth.gpkg" -dialect SQLite \
    -sql "SELECT * FROM \"$nsyn\" ORDER BY (rowid * 7919) % 10007 LIMIT $k" -nln fields
  "$fs" -q labels --image "$syn/train.tif" --fields "$syn/sub_$k.gpkg" --chips "$syn/chips_$k" \
    --chip-px 256 --chip-stride 256 --min-labelled 0.0005 --overwrite
  /usr/bin/python3 $pack "$syn/chips_$k" "$D/chips/syn_$k"
done

# One config per run. Paths are relative to the repository root, where the runs start.
mk() {  # mk NAME BASE_CONFIG MANIFEST [jq filter]
  jq --arg n "$1" --arg m "$D/chips/$3/manifest.jsonl" "${4:-.}"' | .name = $n | .train_manifests = [$m]' \
    "configs/$2.json" > "$D/jobs/$1.json"
}
ft='.epochs = 20 | .steps_per_epoch = 50 | .batch_size = 16 | .optimizer.step_epochs = 14'
mk source_gpu source naip '.epochs = 30 | .batch_size = 16 | .crop_px = 192 | .augment.gsd_rescale_max = 3.0 | .validation.max_chips = 48'
mk smallholder_gpu smallholder rwanda_west "$ft"
mk smallholder_scratch_gpu smallholder_scratch rwanda_west "$ft"
for k in ${RW_SIZES:-2 5 10} $nwest; do
  mk le_rw_ft_$k smallholder rw_$k "$ft"
  mk le_rw_scratch_$k smallholder_scratch rw_$k "$ft"
done
for k in ${SYN_SIZES:-10 30 100 300 1000}; do
  mk le_syn_ft_$k smallholder syn_$k "$ft"
  mk le_syn_scratch_$k smallholder_scratch syn_$k "$ft"
done
rm -rf "$D/work/rw_chips_"* "$syn"/chips_*
# The subsets of one scene share their image chips: hard links, which tar stores once.
for dir in "$D"/chips/rw_* "$D"/chips/syn_*; do
  first=$(ls -d "${dir%_*}"_* | head -1)
  [[ $dir == "$first" ]] && continue
  for f in "$dir"/img/*.fsc; do
    g=$first/img/$(basename "$f")
    [[ -f $g ]] && cmp -s "$f" "$g" && ln -f "$g" "$f"
  done
done
du -sh "$D"/*
# One compressed file to carry (.git/info/exclude ignores it); train_gpu.sh unpacks it.
tar -C "$D" -cf - include chips jobs | xz -T2 -6 > "$D.txz"
echo "prepare: ready in $D ($(ls "$D/jobs" | wc -l) runs), $(du -h "$D.txz" | cut -f1) in $D.txz"
