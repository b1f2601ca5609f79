#!/usr/bin/env bash
# Runs on a GPU machine that has a CUDA LibTorch (the Python torch package's) but no GDAL: builds
# fieldseg-train (this folder's CMakeLists.txt), then trains every job prepared by prepare.sh.
# Usage, from the repository root: tools/device/train_gpu.sh DEPS_DIR RESULT_DIR BUDGET_S
#   BUDGET_S: wall seconds for all training; the source run gets ~45 % of it, sized by a probe.
# Model files, curves and logs go to RESULT_DIR; pack them with `tar` for transport.
set -uo pipefail
D=${1:?deps dir}; R=${2:?result dir}; budget=${3:-420}
mkdir -p "$R"
t0=$(date +%s)
if [[ ! -d $D/chips && -f $D.txz ]]; then  # prepare.sh's single file: unpack, then cut the PNG crops
  python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$D.txz" "$D"
  python3 tools/device/pack_chips.py --materialise "$D/chips/naip" || exit 6
fi
el() { echo $(( $(date +%s) - t0 )); }
dev=${DEVICE:-cuda}
if [[ -n ${FT_BIN:-} ]]; then  # a prebuilt fieldseg-train (e.g. a CPU smoke test of this script)
  ft=$FT_BIN
else
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$R/gpu.txt" 2>&1
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
echo "torch $(python3 -c 'import torch; print(torch.__version__)') at $prefix; $(cat "$R/gpu.txt")"
B=/tmp/fieldseg-train-build
mkdir -p $B
if ! { cmake -S tools/device -B $B -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
         -DFIELDSEG_EXTRA_INCLUDE="$PWD/$D/include" > "$R/cmake.log" 2>&1 &&
       cmake --build $B -j 16 > "$R/build.log" 2>&1; }; then
  # Fallback: compile by hand against the wheel's headers and libraries.
  echo "cmake build failed ($(grep -m3 -i error "$R/cmake.log" "$R/build.log" | head -3)); compiling by hand"
  tp=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
  abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  mkdir -p $B/generated/fieldseg
  sed 's/@PROJECT_VERSION@/0.1.0/' include/fieldseg/version.hpp.in > $B/generated/fieldseg/version.hpp
  flags=(-std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=$abi -DFIELDSEG_WITH_TORCH=1 -DFIELDSEG_NO_GDAL=1
         -Iinclude -Isrc/model -Isrc/model/torch -Itools/cli -I$B/generated -isystem "$D/include"
         -isystem "$tp/include" -isystem "$tp/include/torch/csrc/api/include")
  objs=()
  for f in src/model/torch/*.cpp src/model/model_file.cpp src/model/precision.cpp \
           src/model/train_config.cpp tools/cli/main.cpp tools/cli/log.cpp tools/cli/train_command.cpp \
           tools/cli/model_names.cpp tools/cli/config_file.cpp tools/cli/guards.cpp \
           tools/cli/run_record.cpp src/io/temp_files.cpp src/io/file_env.cpp; do
    o=$B/$(basename "$f" .cpp).o; objs+=("$o")
    g++ "${flags[@]}" -c "$f" -o "$o" >> "$R/build.log" 2>&1 &
  done
  wait
  g++ -o $B/fieldseg-train "${objs[@]}" -L"$tp/lib" -Wl,-rpath,"$tp/lib" -Wl,--no-as-needed \
    -ltorch_cuda -ltorch -ltorch_cpu -lc10_cuda -lc10 -Wl,--as-needed -lpthread >> "$R/build.log" 2>&1 ||
    { grep -m 20 -A5 "error" "$R/build.log"; exit 3; }
fi
ft=$B/fieldseg-train
echo "built in $(el) s"
fi
probe() {  # seconds per step of a config, from a 2-epoch run of 30 steps (second epoch timed)
  python3 -c "import json,sys;c=json.load(open('$1'));c.update(epochs=2,steps_per_epoch=$probe_steps,name='probe');json.dump(c,open('/tmp/probe.json','w'))"
  $ft -q train --config /tmp/probe.json --out /tmp/probe.fsm --device $dev --overwrite \
    > /tmp/probe.log 2>&1 || { tail -20 /tmp/probe.log >&2; echo 0; return; }
  python3 -c "import csv;r=list(csv.DictReader(open('/tmp/probe.fsm.curve.csv')));print(float(r[-1]['epoch_seconds'])/$probe_steps)"
}
probe_steps=30; min_steps=10
if [[ ${SMOKE:-0} == 1 ]]; then  # a quick check of this script: 1 epoch x 2 steps, 3 jobs
  probe_steps=2; min_steps=2
  for j in "$D"/jobs/*.json; do
    python3 -c "import json,sys;c=json.load(open(sys.argv[1]));c.update(epochs=1,steps_per_epoch=2,freeze_encoder_epochs=0) if 'freeze_encoder_epochs' in c else c.update(epochs=1,steps_per_epoch=2);json.dump(c,open(sys.argv[1],'w'))" "$j"
  done
  ls "$D"/jobs/*.json | grep -v -e source_gpu -e smallholder -e le_rw_ft_2 -e le_syn_scratch_10 | xargs rm -f
fi
sps=$(probe "$D/jobs/source_gpu.json")
echo "probe: $sps s/step (source config, incl. validation) at $(el) s"
[[ $sps == 0 ]] && { echo "probe failed"; exit 4; }
src_budget=$(python3 -c "print(int(($budget - $(el)) * 0.45))")
steps=$(python3 -c "import json;c=json.load(open('$D/jobs/source_gpu.json'));print(max($min_steps,int($src_budget/$sps/c['epochs'])))")
python3 -c "import json;c=json.load(open('$D/jobs/source_gpu.json'));c['steps_per_epoch']=$steps;json.dump(c,open('$R/source_gpu.json','w'),indent=1)"
echo "source_gpu: $steps steps/epoch for ~$src_budget s"
$ft train --config "$R/source_gpu.json" --out "$R/source_gpu.fsm" --device $dev --overwrite \
  --threads 4 > "$R/source_gpu.log" 2>&1
echo "source_gpu done (rc $?) at $(el) s: $(tail -1 "$R/source_gpu.log")"
[[ -f $R/source_gpu.fsm ]] || { tail -30 "$R/source_gpu.log"; exit 5; }
# Fine-tunes and from-scratch runs, 4 at a time (the network is small: the GPU is not the limit).
# All get the same steps, sized so that every round fits the time left: 128 px crops cost ~0.44 of
# the probe's 192 px steps; 4 concurrent runs are assumed to slow each other 1.5x.
jobs=$(ls "$D"/jobs/*.json | grep -v source_gpu)
njobs=$(echo "$jobs" | wc -l)
p2steps=$(python3 -c "import math;left=$budget-$(el)-20;r=math.ceil($njobs/4);print(max($min_steps,min(50,int(left/r/($sps*0.66)/20))))")
for j in $jobs; do
  python3 -c "import json,sys;c=json.load(open(sys.argv[1]));c['steps_per_epoch']=$p2steps;json.dump(c,open(sys.argv[1],'w'),indent=1)" "$j"
done
echo "phase 2: $njobs runs x $(python3 -c "import json;print(json.load(open('$(echo "$jobs" | head -1)'))['epochs'])") epochs x $p2steps steps"
run() {
  local j=$1 name; name=$(basename "$j" .json)
  local init=()
  [[ $name == *scratch* ]] || init=(--init "$R/source_gpu.fsm")
  local left=$(( budget - $(el) )); (( left < 60 )) && left=60
  cp "$j" "$R/$name.json"
  timeout $left $ft train --config "$R/$name.json" "${init[@]}" --out "$R/$name.fsm" --device $dev --overwrite \
    --threads 3 > "$R/$name.log" 2>&1
  echo "$name rc $? at $(el) s: $(tail -1 "$R/$name.log")"
}
export -f run el; export ft R t0 budget dev
echo "$jobs" | xargs -P 4 -I{} bash -c 'run {}'
rm -f "$R"/*.ckpt
echo "all done at $(el) s"
ls -la "$R" | head -80
