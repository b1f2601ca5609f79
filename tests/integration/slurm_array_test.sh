#!/usr/bin/env bash
# Acceptance 1 of the batch issue, on a real one-node Slurm cluster (run as root; driven by
# slurm_array_test.cpp). Usage: slurm_array_test.sh FIELDSEG_BINARY SOURCE_DIR WORK_DIR
#  1. synth scene -> oracle probabilities (fieldseg labels) -> single-process delineate;
#  2. fieldseg grid (4 x 4 cells) -> sbatch --array=0-3 --wait tools/deploy/slurm_delineate.sbatch
#     -> fieldseg merge == single-process (compare_fields.py: same fields, same coordinates);
#  3. again in a fresh folder, task 1 is killed mid-cell (its 2nd cell written, marker not yet):
#     merge must fail naming that cell; resubmitting task 1 alone must process exactly the unfinished
#     cells of shard 1 and skip its finished one; the merge then equals single-process again.
set -euo pipefail
FIELDSEG=$(readlink -f "$1")
SRC=$(readlink -f "$2")
W=$(readlink -f "$3")
# Debian's python3 has the GDAL bindings; a python3 earlier on PATH (pyenv, venv) may not.
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
step() { echo "== $(date +%T) $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

S="$W/slurm"
cleanup() {
  rc=$?
  if [[ $rc -ne 0 && -d "$S/log" ]]; then
    echo "-- Slurm logs (last lines)" >&2
    tail -n 15 "$S/log/slurmctld.log" "$S/log/slurmd.log" >&2 || true
  fi
  bash "$SRC/tools/slurm/stop.sh" "$S" || true
}
trap cleanup EXIT

step "scene, oracle probabilities, single-process delineate"
cd "$W"
"$FIELDSEG" -q synth --preset smallholder --size 512 --seed 11 --out "$W/scene.tif" --truth "$W/truth.geojson"
"$FIELDSEG" -q labels --image "$W/scene.tif" --fields "$W/truth.geojson" --out "$W/labels.tif"
"$FIELDSEG" -q delineate "$W/scene.tif" --probabilities-in "$W/labels.tif" --out "$W/single.gpkg" --tile-px 128
"$FIELDSEG" grid --images "$W/scene.tif" --cell-m 384 --snap-to-extent --out "$W/grid.json"
cells=$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['cells']))" "$W/grid.json")
[[ "$cells" == 16 ]] || fail "expected a 4 x 4 grid, got $cells cells"

step "start Slurm"
env_line=$(bash "$SRC/tools/slurm/start.sh" "$S") || fail "could not start Slurm (see messages above)"
eval "$env_line"
sinfo

ARGS="--probabilities-in $W/labels.tif --cell-halo-px 96"
step "array job 0-3 over 16 cells"
timeout 300 sbatch --array=0-3 --wait -o "$W/run1-%a.log" \
  --export=ALL,FIELDSEG="$FIELDSEG",GRID="$W/grid.json",OUT_DIR="$W/out1",SHARD_COUNT=4,FIELDSEG_ARGS="$ARGS" \
  "$SRC/tools/deploy/slurm_delineate.sbatch" || { tail -n 20 "$W"/run1-*.log; fail "array job failed"; }
"$FIELDSEG" merge --grid "$W/grid.json" --in-dir "$W/out1" --out "$W/merged1.gpkg"
"$PY" "$SRC/tests/integration/compare_fields.py" "$W/single.gpkg" "$W/merged1.gpkg" "$W/grid.json"

step "array job with task 1 killed mid-cell"
cat >"$W/stall_task1.sh" <<JOB
#!/usr/bin/env bash
# Task 1 stops after writing its 2nd cell's output, before the done-marker (simulated hang).
if [[ "\$SLURM_ARRAY_TASK_ID" == 1 ]]; then export FIELDSEG_BATCH_STALL_BEFORE_MARKER=2; fi
exec bash "$SRC/tools/deploy/slurm_delineate.sbatch"
JOB
job=$(sbatch --parsable --array=0-3 -o "$W/run2-%a.log" \
  --export=ALL,FIELDSEG="$FIELDSEG",GRID="$W/grid.json",OUT_DIR="$W/out2",SHARD_COUNT=4,FIELDSEG_ARGS="$ARGS" \
  "$W/stall_task1.sh")
job=${job%%;*}
for _ in $(seq 600); do
  if grep -q "stalling before its done-marker" "$W/run2-1.log" 2>/dev/null; then break; fi
  sleep 0.1
done
grep -q "stalling before its done-marker" "$W/run2-1.log" || { cat "$W/run2-1.log" || true; fail "task 1 never reached its stall point"; }
stalled=$(sed -n 's/.*batch: cell \([^ ]*\) output written; stalling.*/\1/p' "$W/run2-1.log")
echo "task 1 stalled in cell $stalled; killing ${job}_1"
scancel "${job}_1"
for _ in $(seq 300); do
  [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] && break
  sleep 0.2
done
[[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] || fail "job $job still queued after scancel"
[[ -f "$W/out2/cells/$stalled.geojson" && ! -f "$W/out2/cells/$stalled.done" ]] ||
  fail "cell $stalled should have an output and no done-marker"

if "$FIELDSEG" merge --grid "$W/grid.json" --in-dir "$W/out2" --out "$W/merged2.gpkg" 2>"$W/merge2.err"; then
  fail "merge succeeded with unfinished cells"
fi
cat "$W/merge2.err"
grep -q "'$stalled'" "$W/merge2.err" || fail "merge error does not name cell $stalled"

# Shard 1 of 4, round-robin: cells 1, 5, 9, 13. Before the rerun, exactly cell 1 is finished.
expected_skip=$("$PY" -c "import json,sys; g=json.load(open(sys.argv[1])); print(g['cells'][1]['id'])" "$W/grid.json")
expected_proc=$("$PY" -c "import json,sys; g=json.load(open(sys.argv[1])); print(' '.join(g['cells'][i]['id'] for i in (5,9,13)))" "$W/grid.json")
[[ "$stalled" == "$(echo "$expected_proc" | cut -d' ' -f1)" ]] || fail "stalled in $stalled, expected the 2nd cell of shard 1"

step "resubmit task 1 only"
timeout 300 sbatch --array=1 --wait -o "$W/run3-%a.log" \
  --export=ALL,FIELDSEG="$FIELDSEG",GRID="$W/grid.json",OUT_DIR="$W/out2",SHARD_COUNT=4,FIELDSEG_ARGS="$ARGS" \
  "$SRC/tools/deploy/slurm_delineate.sbatch" || { cat "$W/run3-1.log"; fail "resubmitted task failed"; }
"$PY" - "$W/out2/runs/shard-1-of-4.json" "$expected_proc" "$expected_skip" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
proc, skip = sys.argv[2].split(), sys.argv[3].split()
assert r["processed"] == proc, f"processed {r['processed']}, expected {proc}"
assert r["skipped"] == skip, f"skipped {r['skipped']}, expected {skip}"
assert r["index_source"] == "SLURM_ARRAY_TASK_ID" and r["count_source"] == "flag", r
print(f"rerun of shard 1: processed {proc}, skipped {skip}")
PY
"$FIELDSEG" merge --grid "$W/grid.json" --in-dir "$W/out2" --out "$W/merged2.gpkg"
"$PY" "$SRC/tests/integration/compare_fields.py" "$W/single.gpkg" "$W/merged2.gpkg" "$W/grid.json"
step "ok"
