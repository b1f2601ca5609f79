#!/usr/bin/env bash
# The [unlabelled] experiment on the Rwanda block split: with n labelled training chips,
#   ft       fine-tuned from `source` on the n chips (as tools/rwanda/label_efficiency.sh);
#   self     + self-training: the ft model delineates the unlabelled imagery (the other training
#            chips with their labels hidden, and the unlabelled test chip 00; test chip 01 touches a
#            validation chip and is left out), `fieldseg pseudo-label` keeps the fields it is sure
#            of, `fieldseg labels` turns them into masked chips, and a model is fine-tuned from
#            `source` on human + pseudo chips (human chips repeated so they are about half of the
#            samples), same budget;
#   suggest  the chips of the next smaller size in the ladder 1, 2, 5, 10 (same seed) plus the chips
#            `fieldseg suggest` ranks most uncertain under that smaller model, instead of random
#            ones; fine-tuned from `source`, same budget.
# Every run: EPOCHS x STEPS steps of 8 crops, one thread; scored on the 181 validation fields (six
# months averaged) with the thresholds of the shipped `smallholder` card (calibrated on the training
# chips). Nothing is tuned on the validation chips.
#
# Usage: tools/rwanda/self_training.sh CHIPDIR OUTDIR
#   CHIPDIR  what tools/rwanda/make_chips.sh wrote (train/manifest.jsonl, vrt/, fields/)
#   env SEEDS="1 2", SIZES="2 5 10", EPOCHS=4, STEPS=50, JOBS=2 (seeds side by side),
#   MIN_CONFIDENCE=0.8, MIN_BOUNDARY=0.5 (pseudo-label thresholds), FIELDSEG (binary, copied to
#   OUTDIR first so a rebuild cannot change it), REALDATA (default ../shared/realdata)
# A run whose OUTDIR/runs/<run>/eval.json exists is kept (rerun to resume). Writes
# OUTDIR/results.csv (one row per run) and prints it.
set -euo pipefail
chipdir=$(cd "${1:?usage: self_training.sh CHIPDIR OUTDIR}" && pwd)
out=${2:?usage: self_training.sh CHIPDIR OUTDIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs0=$(find_fieldseg "${FIELDSEG:-}") || exit 1
PY=python3; [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
mkdir -p "$out/runs" "$out/vrt_test"
out=$(cd "$out" && pwd)
[[ -x $out/fieldseg ]] || cp "$fs0" "$out/fieldseg"
FS=$out/fieldseg
split=$here/configs/splits/rwanda_blocks.json
test_dir=${REALDATA:-$here/../shared/realdata}/rwanda_planetscope/test_chips_no_labels
read -r -a months <<<"$("$PY" -c "import json;print(' '.join(json.load(open('$split'))['months']))")"
epochs=${EPOCHS:-4}
steps=${STEPS:-50}
min_conf=${MIN_CONFIDENCE:-0.8}
min_bound=${MIN_BOUNDARY:-0.5}

# The unlabelled test chip 00, stacked like the training chips (red, green, blue, nir).
for m in "${months[@]}"; do
  d=$test_dir/nasa_rwanda_field_boundary_competition_source_test_00_$m
  v=$out/vrt_test/rwt00_$m.vrt
  [[ -f $v || ! -d $d ]] && continue
  "$PY" - "$d" "$v" <<'EOF'
import sys
from osgeo import gdal
gdal.UseExceptions()
src, dst = sys.argv[1:]
vrt = gdal.BuildVRT(dst, [f"{src}/B0{i}.tif" for i in (3, 2, 1, 4)], separate=True)
for i, n in enumerate(["red", "green", "blue", "nir"]):
    vrt.GetRasterBand(i + 1).SetDescription(n)
    vrt.GetRasterBand(i + 1).SetNoDataValue(0)
vrt = None
EOF
done

# Training chips in the seeded order of label_efficiency.sh (the first n are the labelled ones).
chip_order() {
  "$PY" -c "
import json, random
chips = sorted(json.load(open('$split'))['train'])
random.Random($1).shuffle(chips)
print(' '.join(chips))"
}

# manifest_for OUT.jsonl CHIP... : the rows of train/manifest.jsonl for these chips.
manifest_for() {
  local dst=$1
  shift
  "$PY" - "$chipdir/train/manifest.jsonl" "$dst" "$@" <<'EOF'
import json, sys
import os
src, dst, chips = sys.argv[1], sys.argv[2], set(sys.argv[3:])
root = os.path.dirname(os.path.abspath(src))
rows = [json.loads(l) for l in open(src) if l.strip()]
rows = [r for r in rows if os.path.basename(r["image"])[2:4] in chips]
assert {os.path.basename(r["image"])[2:4] for r in rows} == chips, "chips without rows"
with open(dst, "w") as f:
    for r in rows:  # absolute paths: the manifest is written outside the chip folder
        r["image"], r["labels"] = (os.path.join(root, r[k]) for k in ("image", "labels"))
        f.write(json.dumps(r) + "\n")
EOF
}

# train_run DIR NAME SEED MANIFEST... : fine-tune from source with the shipped recipe's config.
train_run() {
  local dir=$1 name=$2 seed=$3
  shift 3
  "$PY" - "$here/configs/smallholder_rw.json" "$seed" "$epochs" "$steps" "$dir/config.json" \
    "$name" "$@" <<'EOF'
import json, sys
base, seed, epochs, steps, dst, name = sys.argv[1:7]
c = json.load(open(base))
c["name"] = "st_" + name
c["description"] = "self-training experiment run " + name + " (tools/rwanda/self_training.sh)"
c["train_manifests"] = sys.argv[7:]
c["seed"] = int(seed)
c["epochs"] = int(epochs)
c["steps_per_epoch"] = int(steps)
c["optimizer"]["step_epochs"] = max(1, int(epochs) - 1)
json.dump(c, open(dst, "w"), indent=1)
EOF
  (cd "$here" && "$FS" train --config "$dir/config.json" --init "$here/models/source.fsm" \
    --out "$dir/model.fsm" --threads 1 --overwrite) >"$dir/train.log" 2>&1 ||
    { echo "train failed: $dir/train.log" >&2; return 1; }
}

thresholds() {
  "$FS" info "$here/models/smallholder.fsm" --json | "$PY" -c "
import json, sys
t = json.load(sys.stdin)['model_card']['thresholds']
flags = {'t_ext': '--t-ext', 't_bound': '--t-bound', 't_dist': '--t-dist', 'marker_h': '--marker-h',
         'min_area_m2': '--min-area-m2'}
print(' '.join(f'{flags[k]} {v}' for k, v in t.items() if k in flags))"
}

score_run() {
  local dir=$1 th
  read -r -a th <<<"$(thresholds)"
  FIELDSEG=$FS bash "$here/tools/rwanda/score.sh" "$chipdir" "$dir/score" "$dir/model.fsm" \
    --threads 1 "${th[@]}" >"$dir/score.log" 2>&1 || { echo "score failed: $dir/score.log" >&2; return 1; }
  cp "$dir/score/eval.json" "$dir/eval.json"
  echo "done $(basename "$dir"): $(tail -1 "$dir/score.log")"
}

# delineate_pool MODEL DIR CHIP... : fields and probabilities of every chip (six months averaged),
# with the same instance rule and thresholds as the scoring; chip "t00" is the unlabelled test chip.
delineate_pool() {
  local model=$1 dir=$2
  shift 2
  mkdir -p "$dir/pred" "$dir/prob"
  local c imgs m th
  read -r -a th <<<"$(thresholds)"
  for c in "$@"; do
    [[ -f $dir/pred/$c.geojson ]] && continue
    imgs=()
    for m in "${months[@]}"; do
      if [[ $c == t00 ]]; then imgs+=("$out/vrt_test/rwt00_$m.vrt"); else imgs+=("$chipdir/vrt/rw${c}_$m.vrt"); fi
    done
    "$FS" -q delineate "${imgs[@]}" --model "$model" --threads 1 --out "$dir/pred/$c.geojson" \
      --probabilities "$dir/prob/$c.tif" --overwrite "${th[@]}"
  done
}

run_ft() {  # seed n
  local dir=$out/runs/ft_s$1_n$2
  [[ -f $dir/model.fsm ]] && return 0
  mkdir -p "$dir"
  read -r -a order <<<"$(chip_order "$1")"
  echo "${order[@]:0:$2}" >"$dir/chips.txt"
  manifest_for "$dir/manifest.jsonl" "${order[@]:0:$2}"
  train_run "$dir" "ft_s$1_n$2" "$1" "$dir/manifest.jsonl"
}

run_self() {  # seed n
  local seed=$1 n=$2 dir=$out/runs/self_s$1_n$2 base=$out/runs/ft_s$1_n$2
  [[ -f $dir/eval.json ]] && return 0
  mkdir -p "$dir/pseudo_fields" "$dir/pseudo"
  read -r -a order <<<"$(chip_order "$seed")"
  local pool=("${order[@]:$n}" t00) c m img
  delineate_pool "$base/model.fsm" "$dir/pool" "${pool[@]}"
  : >"$dir/pseudo.log"
  for c in "${pool[@]}"; do
    if [[ $c == t00 ]]; then img=$out/vrt_test/rwt00_${months[0]}.vrt; else img=$chipdir/vrt/rw${c}_${months[0]}.vrt; fi
    "$FS" pseudo-label --fields "$dir/pool/pred/$c.geojson" --image "$img" \
      --min-confidence "$min_conf" --min-boundary-strength "$min_bound" \
      --out "$dir/pseudo_fields/$c.geojson" --overwrite 2>>"$dir/pseudo.log"
    [[ $("$PY" -c "import json;print(len(json.load(open('$dir/pseudo_fields/$c.geojson'))['features']))") -gt 0 ]] || continue
    for m in "${months[@]}"; do
      if [[ $c == t00 ]]; then img=$out/vrt_test/rwt00_$m.vrt; else img=$chipdir/vrt/rw${c}_$m.vrt; fi
      "$FS" -q labels --image "$img" --fields "$dir/pseudo_fields/$c.geojson" \
        --bands red,green,blue,nir --chips "$dir/pseudo" --chip-px 256 --chip-stride 256 \
        --min-labelled 0 --overwrite
    done
  done
  # Human chips repeated so that they are about half of the samples.
  local hum pse k manifests=()
  hum=$(wc -l <"$base/manifest.jsonl")
  pse=$(wc -l <"$dir/pseudo/manifest.jsonl" 2>/dev/null || echo 0)
  k=$(( (pse + hum - 1) / hum ))
  ((k < 1)) && k=1
  for ((i = 0; i < k; ++i)); do manifests+=("$base/manifest.jsonl"); done
  [[ $pse -gt 0 ]] && manifests+=("$dir/pseudo/manifest.jsonl")
  "$PY" -c "
import json, glob
kept = sum(len(json.load(open(f))['features']) for f in glob.glob('$dir/pseudo_fields/*.geojson'))
json.dump({'pseudo_fields': kept, 'pseudo_chip_months': $pse, 'human_chip_months': $hum,
           'human_repeats': $k, 'min_confidence': $min_conf, 'min_boundary_strength': $min_bound},
          open('$dir/pseudo.json', 'w'))"
  cp "$base/chips.txt" "$dir/chips.txt"
  train_run "$dir" "self_s${seed}_n$n" "$seed" "${manifests[@]}"
  score_run "$dir"
}

prev_size() { case $1 in 2) echo 1 ;; 5) echo 2 ;; 10) echo 5 ;; 20) echo 10 ;; *) echo 0 ;; esac; }

run_suggest() {  # seed n
  local seed=$1 n=$2 dir=$out/runs/suggest_s$1_n$2 p
  p=$(prev_size "$n")
  [[ -f $dir/eval.json ]] && return 0
  mkdir -p "$dir"
  run_ft "$seed" "$p"
  read -r -a order <<<"$(chip_order "$seed")"
  local pool=("${order[@]:$p}") probs=() c
  delineate_pool "$out/runs/ft_s${seed}_n$p/model.fsm" "$dir/pool" "${pool[@]}"
  for c in "${pool[@]}"; do probs+=(--probabilities-in "$dir/pool/prob/$c.tif"); done
  "$FS" suggest "${probs[@]}" --window-px 256 --count $((n - p)) --out "$dir/suggest.gpkg" \
    --overwrite 2>"$dir/suggest.log"
  mapfile -t picked < <("$PY" -c "
from osgeo import ogr
ds = ogr.Open('$dir/suggest.gpkg')
for f in ds.GetLayer(0):
    print(f.GetField('probabilities')[:-4])")
  local chips=("${order[@]:0:$p}" "${picked[@]}")
  echo "${chips[@]}" >"$dir/chips.txt"
  manifest_for "$dir/manifest.jsonl" "${chips[@]}"
  train_run "$dir" "suggest_s${seed}_n$n" "$seed" "$dir/manifest.jsonl"
  score_run "$dir"
}

run_seed() {
  local seed=$1 n
  for n in ${SIZES:-2 5 10}; do
    run_ft "$seed" "$n"
    [[ -f $out/runs/ft_s${seed}_n$n/eval.json ]] || score_run "$out/runs/ft_s${seed}_n$n"
    run_suggest "$seed" "$n"
    run_self "$seed" "$n"
  done
}
export -f chip_order manifest_for train_run thresholds score_run delineate_pool run_ft run_self \
  prev_size run_suggest run_seed
export out chipdir here PY FS split epochs steps min_conf min_bound SIZES
export months_list="${months[*]}"
# shellcheck disable=SC2016
printf '%s\n' ${SEEDS:-1 2} | xargs -P "${JOBS:-2}" -I{} bash -c \
  'set -euo pipefail; read -r -a months <<<"$months_list"; run_seed {}'

"$PY" - "$out" <<'EOF' | tee "$out/results.csv"
import glob, json, os, sys
out = sys.argv[1]
print("variant,seed,chips,human_fields,pseudo_fields,median_iou,object_f1,pq,chip_list")
rows = []
for d in sorted(glob.glob(os.path.join(out, "runs", "*"))):
    if not os.path.exists(os.path.join(d, "eval.json")):
        continue
    variant, s, n = os.path.basename(d).split("_")
    e = json.load(open(os.path.join(d, "eval.json")))
    chips = open(os.path.join(d, "chips.txt")).read().split()
    manifest = os.path.join(out, "runs", f"ft_{s}_{n}" if variant == "self" else os.path.basename(d),
                            "manifest.jsonl")
    per_chip = {}
    for line in open(manifest):
        if line.strip():
            r = json.loads(line)
            per_chip[os.path.basename(r["image"])[2:4]] = r["fields"]
    pseudo = ""
    if os.path.exists(os.path.join(d, "pseudo.json")):
        pseudo = json.load(open(os.path.join(d, "pseudo.json")))["pseudo_fields"]
    rows.append((variant, int(s[1:]), int(n[1:]), sum(per_chip.values()), pseudo,
                 round(e["field_iou"]["median"], 4), round(e["objects"]["f1"], 4),
                 round(e["objects"]["panoptic_quality"], 4), " ".join(chips)))
for r in sorted(rows):
    print(",".join(str(x) for x in r))
EOF
