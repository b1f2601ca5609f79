#!/usr/bin/env bash
# The transfer experiment of issue 7 (DOMAIN.md section 1): does pretraining on the high-resource
# region (US Midwest NAIP, `source`) plus fine-tuning on a few weak labels beat training from
# scratch on the smallholder target (Rwanda PlanetScope)?
#
#   A. Rwanda EAST-half fields held out (the split of `fieldseg labels --split`): median field IoU of
#      `source` as-is, `smallholder` (source fine-tuned on the west half) and `smallholder_scratch`
#      (same west-half labels, random init), from the shipped models in MODELS.
#   B. Label efficiency: fine-tuned-from-source vs from-scratch, trained here on nested subsets of
#      the west-half fields (SIZES), scored on the east half. These runs are deliberately tiny
#      (LE_EPOCHS x LE_STEPS optimiser steps) so the whole table fits a 2-core CPU box.
#   C. `source` on the NAIP scenes held out of its training (every 7th scene sorted by path, the rule
#      of configs/source.json, unless NAIP_HOLDOUT lists scene names).
#
# Every score is `fieldseg evaluate --partial` (the labels are partial), thresholds from each card.
# Writes OUTDIR/transfer_results.md (tables, commands, data, field counts) and OUTDIR/*.json.
#
# Usage: tools/transfer_experiment.sh OUTDIR [FIELDSEG_BINARY]
#   env MODELS (default models), SIZES (default "2 5 10 all"), LE_EPOCHS (4), LE_STEPS (6),
#   THREADS (0 = all cores), REALDATA (default ../shared/realdata), SKIP_A / SKIP_B / SKIP_C / SKIP_CAL = 1.
set -euo pipefail
out=${1:?usage: tools/transfer_experiment.sh OUTDIR [FIELDSEG_BINARY]}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${2:-}") || exit 1
command -v jq >/dev/null || { echo "transfer_experiment: needs jq (apt-get install jq)." >&2; exit 1; }
data=${REALDATA:-$here/../shared/realdata}
models=${MODELS:-$here/models}
rw=$data/rwanda_planetscope/prepared
img=$rw/rwanda_planetscope_chip.tif
fields=$rw/fields.geojson
naip=$data/agoro_naip_us_midwest/georeferenced
sizes=${SIZES:-"2 5 10 all"}
le_epochs=${LE_EPOCHS:-4}
le_steps=${LE_STEPS:-6}
threads=${THREADS:-0}
[[ -f $img && -f $fields ]] || { echo "transfer_experiment: Rwanda data not found under '$data'. Set REALDATA." >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
md=$out/transfer_results.md
log() { echo "transfer_experiment: $*" >&2; }
t_start=$(date +%s)

# score MODEL_OR_PROB NAME TRUTH EXTRA...: delineate the Rwanda chip with MODEL, evaluate on TRUTH
# (east half); prints "median mean frac05 f1 scored" and keeps the JSON.
score_rwanda() {
  local model=$1 name=$2
  "$fs" -q delineate "$img" --model "$model" --out "$out/pred_$name.gpkg" --threads "$threads" \
    --overwrite
  "$fs" -q evaluate --pred "$out/pred_$name.gpkg" --truth "$fields" --truth-split east --partial \
    --json > "$out/eval_$name.json"
  jq -r '[.field_iou.median, .field_iou.mean, .field_iou.frac_above_0_5, .objects.f1,
          .scored_fields] | map(tostring) | join(" ")' "$out/eval_$name.json"
}
fmt() { printf "%.3f" "$1"; }

{
  echo "# Transfer experiment ($(date -u +%Y-%m-%dT%H:%MZ), fieldseg $("$fs" --version | awk '{print $2}'))"
  echo
  echo "Command: \`tools/transfer_experiment.sh $out\` (SIZES=\"$sizes\" LE_EPOCHS=$le_epochs LE_STEPS=$le_steps)."
  echo "Scores: \`fieldseg evaluate --partial\` (labelled fields only; DOMAIN.md section 2), thresholds from each model card."
  echo "Data: Rwanda PlanetScope chip (256 x 256 px, 4.78 m, 43 partially labelled fields; rwanda_planetscope, CC-BY),"
  echo "split by field centroid longitude (\`--split\`): west half (21 fields) for training, east half (22 fields) held out."
  echo "NAIP: agoro_naip_us_midwest (30 scenes, 1 m, partial labels, CC-BY)."
  echo
  echo "Models used (sha256, first 12 hex):"
  for m in "$models"/*.fsm; do
    [[ -f $m ]] && echo "- $(basename "$m"): $(sha256sum "$m" | cut -c1-12), $(date -u -r "$m" +%H:%MZ)"
  done
  echo
} > "$md"

# ---- A. the shipped models on the east half ---------------------------------------------------------
if [[ ${SKIP_A:-0} != 1 ]]; then
  {
    echo "## A. Rwanda east half (held out): shipped models"
    echo
    echo "| model | trained on | median field IoU | mean | frac IoU > 0.5 | object F1 | fields scored | median IoU, thresholds calibrated on the west half |"
    echo "|---|---|---|---|---|---|---|---|"
  } >> "$md"
  "$here"/tools/split_rwanda.sh "$out/split" "$fields"
  for m in source smallholder smallholder_scratch; do
    f=$models/$m.fsm
    if [[ ! -f $f ]]; then
      log "model $f missing: row skipped"
      echo "| $m | (model file missing) | | | | | | |" >> "$md"
      continue
    fi
    log "A: $m"
    r=$(score_rwanda "$f" "A_$m")
    read -r med mean f05 f1 n <<< "$r"
    case $m in
      source) what="NAIP only (no Rwanda labels)" ;;
      smallholder) what="source + fine-tune on 21 west fields" ;;
      *) what="21 west fields, random init" ;;
    esac
    # Calibration on the training (west) half only, so the east half stays unseen.
    cal=""
    if [[ ${SKIP_CAL:-0} != 1 ]]; then
      "$fs" -q calibrate --model "$f" --image "$img" --truth "$out/split/rwanda_fields_west.geojson" \
        --partial --t-ext 0.2,0.3,0.4,0.5,0.6,0.7,0.8 --t-bound 0.1,0.2,0.3,0.5 --min-area-m2 0,100,400 \
        --out "$out/${m}_cal.fsm" --report "$out/calibrate_$m.json" --threads "$threads" --overwrite \
        > "$out/calibrate_$m.txt"
      r=$(score_rwanda "$out/${m}_cal.fsm" "A_${m}_cal")
      read -r cmed _rest <<< "$r"
      cal="$(fmt "$cmed") (t_ext $(jq .best.t_ext "$out/calibrate_$m.json"), t_bound $(jq .best.t_bound "$out/calibrate_$m.json"), min area $(jq .best.min_area_m2 "$out/calibrate_$m.json") m2)"
    fi
    echo "| $m | $what | $(fmt "$med") | $(fmt "$mean") | $(fmt "$f05") | $(fmt "$f1") | $n | $cal |" >> "$md"
  done
  {
    echo
    echo "Per model: \`fieldseg delineate $img --model MODELS/<m>.fsm --out pred.gpkg\`, then"
    echo "\`fieldseg evaluate --pred pred.gpkg --truth $fields --truth-split east --partial --json\`."
    echo "Calibrated column: \`fieldseg calibrate --model M --image $img --truth rwanda_fields_west.geojson --partial\`"
    echo "(grid t_ext 0.2..0.8 x t_bound 0.1..0.5 x min area 0/100/400 m2, west-half fields only; tools/split_rwanda.sh), then the same scoring."
    echo
  } >> "$md"
fi

# ---- B. label efficiency -----------------------------------------------------------------------------
if [[ ${SKIP_B:-0} != 1 ]]; then
  [[ -f $models/source.fsm ]] || { log "B needs $models/source.fsm"; exit 1; }
  le=$out/label_efficiency
  mkdir -p "$le"
  "$here"/tools/split_rwanda.sh "$le/split" "$fields"
  west=$le/split/rwanda_fields_west.geojson
  nwest=$(ogrinfo -ro -so "$west" fields_west | sed -n 's/^Feature Count: //p')
  {
    echo "## B. Label efficiency (Rwanda east half held out)"
    echo
    echo "Tiny runs: $le_epochs epochs x $le_steps steps (batch 8, 128 px crops) each, same seed; otherwise"
    echo "configs/smallholder.json (fine-tuned from \`source\`, \`--init\`) and configs/smallholder_scratch.json (random init)."
    echo "Subsets are nested: the west-half fields in a fixed pseudo-random order (rowid*37 mod 101), first k kept."
    echo
    echo "| labelled west fields | fine-tuned median IoU | from-scratch median IoU | fine-tuned mean | from-scratch mean | east fields scored |"
    echo "|---|---|---|---|---|---|"
  } >> "$md"
  for k in $sizes; do
    [[ $k == all ]] && k=$nwest
    sub=$le/west_$k.geojson
    ogr2ogr -overwrite -f GeoJSON -lco RFC7946=YES "$sub" "$west" -dialect SQLite \
      -sql "SELECT * FROM fields_west ORDER BY (rowid * 37) % 101 LIMIT $k" -nln fields
    "$fs" -q labels --image "$img" --fields "$sub" --chips "$le/chips_$k" --chip-px 128 \
      --chip-stride 32 --min-labelled 0 --overwrite --out "$le/labels_$k.tif"
    declare -A res=()
    for kind in ft scratch; do
      base=$here/configs/smallholder.json
      init=(--init "$models/source.fsm")
      if [[ $kind == scratch ]]; then
        base=$here/configs/smallholder_scratch.json
        init=()
      fi
      cfg=$le/${kind}_$k.json
      jq --arg man "$le/chips_$k/manifest.jsonl" --argjson e "$le_epochs" --argjson s "$le_steps" \
        --arg name "le_${kind}_$k" \
        '.name = $name | .train_manifests = [$man] | .epochs = $e | .steps_per_epoch = $s
         | del(.val_manifests) | (if has("freeze_encoder_epochs") then .freeze_encoder_epochs = ([1, $e - 1] | min) else . end)' \
        "$base" > "$cfg"
      log "B: k=$k $kind: training"
      "$fs" -q train --config "$cfg" "${init[@]}" --out "$le/${kind}_$k.fsm" --threads "$threads" \
        --overwrite
      r=$(score_rwanda "$le/${kind}_$k.fsm" "B_${kind}_$k")
      read -r med mean _f05 _f1 n <<< "$r"
      res[${kind}_med]=$med
      res[${kind}_mean]=$mean
      res[n]=$n
    done
    echo "| $k | $(fmt "${res[ft_med]}") | $(fmt "${res[scratch_med]}") | $(fmt "${res[ft_mean]}") | $(fmt "${res[scratch_mean]}") | ${res[n]} |" >> "$md"
    unset res
  done
  {
    echo
    echo "Per row: \`ogr2ogr ... west_k.geojson\` (subset), \`fieldseg labels --image $img --fields west_k.geojson --chips chips_k --chip-px 128 --chip-stride 32 --min-labelled 0\`,"
    echo "\`fieldseg train --config {ft,scratch}_k.json [--init MODELS/source.fsm] --out M.fsm\` (configs written to $le), then delineate + evaluate as in A."
    echo
  } >> "$md"
fi

# ---- C. source on held-out NAIP scenes ------------------------------------------------------------
if [[ ${SKIP_C:-0} != 1 && -f $models/source.fsm ]]; then
  mapfile -t scenes < <(ls "$naip"/*.vrt | sort)
  held=()
  # The card lists the images held out of training (training.val_source_images); fall back to the
  # every-7th rule of configs/source.json for older cards.
  mapfile -t card_held < <("$fs" info "$models/source.fsm" --json 2>/dev/null |
    jq -r '.model_card.training.val_source_images // [] | .[]' | xargs -r -n1 basename)
  if [[ -n ${NAIP_HOLDOUT:-} ]]; then
    for s in $NAIP_HOLDOUT; do held+=("$naip/$s.vrt"); done
  elif ((${#card_held[@]} > 0)); then
    for s in "${card_held[@]}"; do held+=("$naip/$s"); done
  else
    for ((i = 6; i < ${#scenes[@]}; i += 7)); do held+=("${scenes[i]}"); done
  fi
  {
    echo "## C. \`source\` on NAIP scenes held out of its training"
    echo
    echo "| scene | median field IoU | mean | frac IoU > 0.5 | object F1 | fields scored |"
    echo "|---|---|---|---|---|---|"
  } >> "$md"
  all=()
  for s in "${held[@]}"; do
    name=$(basename "${s%.vrt}")
    log "C: $name"
    "$fs" -q delineate "$s" --model "$models/source.fsm" --out "$out/pred_C_$name.gpkg" \
      --threads "$threads" --overwrite
    "$fs" -q evaluate --pred "$out/pred_C_$name.gpkg" --truth "${s%.vrt}.geojson" --partial --json \
      --json-fields > "$out/eval_C_$name.json"
    read -r med mean f05 f1 n < <(jq -r '[.field_iou.median, .field_iou.mean,
      .field_iou.frac_above_0_5, .objects.f1, .scored_fields] | map(tostring) | join(" ")' \
      "$out/eval_C_$name.json")
    echo "| $name | $(fmt "$med") | $(fmt "$mean") | $(fmt "$f05") | $(fmt "$f1") | $n |" >> "$md"
    all+=("$out/eval_C_$name.json")
  done
  if ((${#all[@]} > 0)); then
    pooled=$(jq -s '[.[].per_field[] | select(.scored) | .iou] | sort |
      if length == 0 then [0, 0] else
      [(if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end),
       length] end | map(tostring) | join(" ")' -r "${all[@]}")
    read -r pmed pn <<< "$pooled"
    {
      echo "| **pooled** | $(fmt "$pmed") | | | | $pn |"
      echo
      echo "Held-out scenes: the card's training.val_source_images (= every 7th NAIP scene sorted by path, configs/source.json);"
      echo "per scene \`fieldseg delineate SCENE.vrt --model MODELS/source.fsm\` + \`fieldseg evaluate --truth SCENE.geojson --partial\`."
      echo
    } >> "$md"
  fi
fi

echo "Total wall time: $(( $(date +%s) - t_start )) s on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p'))." >> "$md"
log "wrote $md"
cat "$md"
