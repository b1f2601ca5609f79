#!/usr/bin/env bash
# Label efficiency on real data ([smallholder]): fine-tuned from `source` vs from scratch, trained on
# 1, 2, 5, 10, 20 and all 32 training chips of the Rwanda block split, several seeds, every run with the
# same step budget; each run scored on the validation blocks (181 fields, six months averaged) with
# fixed thresholds (those calibrated on the training chips for the shipped model of the same start).
#
# Usage: tools/rwanda/label_efficiency.sh CHIPDIR OUTDIR
#   CHIPDIR  what tools/rwanda/make_chips.sh wrote (train/manifest.jsonl, vrt/, fields/)
#   env SEEDS="1 2", SIZES="1 2 5 10 20 32", EPOCHS=4, STEPS=60 (steps per epoch), JOBS=2 (runs side
#   by side, 1 thread each), FIELDSEG (binary; copied to OUTDIR first so a rebuild cannot change it)
# The chips of a run are the first n of a seeded shuffle of the training chips, so for one seed the
# smaller sets are subsets of the larger ones. A run whose OUTDIR/runs/<run>/eval.json exists is kept
# (rerun the script to resume). Writes OUTDIR/results.csv (one row per run) and prints it.
# env RESCORE=1: no training; every finished run is scored again from its saved probabilities
# (runs/<run>/score/prob) with the current fieldseg and thresholds (after a change of the instance
# rules), replacing its eval.json.
# env SUMMARY_ONLY=1: only (re)write OUTDIR/results.csv from the finished runs.
# Then: python3 tools/rwanda/label_efficiency_plot.py OUTDIR/results.csv PNG
set -euo pipefail
chipdir=$(cd "${1:?usage: label_efficiency.sh CHIPDIR OUTDIR}" && pwd)
out=${2:?usage: label_efficiency.sh CHIPDIR OUTDIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs0=$(find_fieldseg "${FIELDSEG:-}") || exit 1
PY=python3; [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
mkdir -p "$out/runs"
out=$(cd "$out" && pwd)
[[ -x $out/fieldseg ]] || cp "$fs0" "$out/fieldseg"
export FIELDSEG=$out/fieldseg
seeds=${SEEDS:-1 2}
sizes=${SIZES:-1 2 5 10 20 32}
epochs=${EPOCHS:-4}
steps=${STEPS:-60}

# One line per run: <start> <seed> <n>, seed by seed, so a cut-short run still has whole curves.
plan=$out/plan.txt
: >"$plan"
for s in $seeds; do
  for n in $sizes; do
    for start in ft scratch; do echo "$start $s $n" >>"$plan"; done
  done
done

run_one() {
  local start=$1 seed=$2 n=$3
  local name=${start}_s${seed}_n${n} dir=$out/runs/${start}_s${seed}_n${n}
  [[ -f $dir/eval.json ]] && return 0
  mkdir -p "$dir"
  local manifest=$chipdir/train/manifest_le_s${seed}_n${n}.jsonl
  "$PY" - "$here/configs/splits/rwanda_blocks.json" "$chipdir/train/manifest.jsonl" "$manifest" \
    "$seed" "$n" "$dir/chips.json" <<'EOF'
import json, random, sys
split, src, dst, seed, n, info = sys.argv[1:]
chips = sorted(json.load(open(split))["train"])
random.Random(int(seed)).shuffle(chips)
keep = set(chips[: int(n)])
rows = [json.loads(l) for l in open(src) if l.strip()]
sel = [r for r in rows if any(r["image"].startswith(f"img/rw{c}_") for c in keep)]
fields = {}
for r in sel:
    fields[r["image"][4:8]] = r["fields"]
assert len(fields) == len(keep), (sorted(fields), sorted(keep))
with open(dst, "w") as f:
    for r in sel:
        f.write(json.dumps(r) + "\n")
json.dump({"chips": sorted(keep), "fields": sum(fields.values()), "chip_months": len(sel)},
          open(info, "w"))
EOF
  local base=$here/configs/smallholder_rw.json
  [[ $start == scratch ]] && base=$here/configs/smallholder_scratch_rw.json
  "$PY" - "$base" "$manifest" "$seed" "$epochs" "$steps" "$dir/config.json" "$name" <<'EOF'
import json, sys
base, manifest, seed, epochs, steps, dst, name = sys.argv[1:]
c = json.load(open(base))
c["name"] = "le_" + name
c["description"] = "label-efficiency run " + name + " (tools/rwanda/label_efficiency.sh)"
c["train_manifests"] = [manifest]
c["seed"] = int(seed)
c["epochs"] = int(epochs)
c["steps_per_epoch"] = int(steps)
c["optimizer"]["step_epochs"] = max(1, int(epochs) - 1)
json.dump(c, open(dst, "w"), indent=1)
EOF
  local init=()
  [[ $start == ft ]] && init=(--init "$here/models/source.fsm")
  (cd "$here" && "$FIELDSEG" train --config "$dir/config.json" "${init[@]}" --out "$dir/model.fsm" \
    --threads 1 --overwrite) >"$dir/train.log" 2>&1 || { echo "train failed: $dir/train.log" >&2; return 1; }
  local th
  read -r -a th <<<"$(thresholds "$start")"
  bash "$here/tools/rwanda/score.sh" "$chipdir" "$dir/score" "$dir/model.fsm" --threads 1 "${th[@]}" \
    >"$dir/score.log" 2>&1 || { echo "score failed: $dir/score.log" >&2; return 1; }
  cp "$dir/score/eval.json" "$dir/eval.json"
  echo "done $name: $(tail -1 "$dir/score.log")"
}
# Thresholds of the shipped model with the same start (its card: calibrated on the training chips).
thresholds() {
  local m=$here/models/smallholder.fsm
  [[ $1 == scratch ]] && m=$here/models/smallholder_scratch.fsm
  "$FIELDSEG" info "$m" --json | "$PY" -c "
import json, sys
t = json.load(sys.stdin)['model_card']['thresholds']
flags = {'t_ext': '--t-ext', 't_bound': '--t-bound', 't_dist': '--t-dist', 'marker_h': '--marker-h',
         'min_area_m2': '--min-area-m2'}
print(' '.join(f'{flags[k]} {v}' for k, v in t.items() if k in flags))"
}
export -f run_one thresholds
export out chipdir here PY epochs steps
if [[ ${SUMMARY_ONLY:-0} == 1 ]]; then
  :  # only the table below, from the runs' eval.json
elif [[ ${RESCORE:-0} == 1 ]]; then
  export FIELDSEG=$fs0  # the current build, not the copy the trainings used
  for dir in "$out"/runs/*; do
    [[ -f $dir/eval.json && -d $dir/score/prob ]] || continue
    start=$(basename "$dir"); start=${start%%_*}
    # shellcheck disable=SC2046
    bash "$here/tools/rwanda/score.sh" "$chipdir" "$dir/rescore" "probs:$dir/score/prob" \
      --threads 1 $(thresholds "$start") >"$dir/rescore.log" 2>&1
    cp "$dir/rescore/eval.json" "$dir/eval.json"
    echo "rescored $(basename "$dir"): $(tail -1 "$dir/rescore.log")"
  done
else
  xargs -P "${JOBS:-2}" -L 1 bash -c 'run_one $0 $1 $2' <"$plan"
fi

"$PY" - "$out" <<'EOF' | tee "$out/results.csv"
import glob, json, os, sys
out = sys.argv[1]
print("start,seed,chips,fields,chip_months,median_iou,object_f1,pq,train_s")
rows = []
for d in sorted(glob.glob(os.path.join(out, "runs", "*"))):
    if not os.path.exists(os.path.join(d, "eval.json")):
        continue
    start, s, n = os.path.basename(d).split("_")
    info = json.load(open(os.path.join(d, "chips.json")))
    e = json.load(open(os.path.join(d, "eval.json")))
    o = e["objects"]
    wall = ""
    for line in open(os.path.join(d, "train.log")):
        if "s wall time" in line:
            wall = line.split("(best epoch")[1].split(",")[1].split("s wall")[0].strip()
    rows.append((start, int(s[1:]), int(n[1:]), info["fields"], info["chip_months"],
                 round(e["field_iou"]["median"], 4), round(o["f1"], 4),
                 round(o["panoptic_quality"], 4), wall))
for r in sorted(rows):
    print(",".join(str(x) for x in r))
EOF
