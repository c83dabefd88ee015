#!/bin/bash
# Issue 8, target 5 (and target 4's 1..16 threads), on a lent GPU machine (no .NET there): run from the repository
# root with .devc/ carried: app.tar.xz (self-contained publish of the CLI and ZetaPrep.Bench without libtorch),
# lib/libturbojpeg.so.0 (Debian's) and skdata/ (the skimage photos make_photos.py cuts from). bench/gpu/README.md
# says how to build it. Writes logs to $OUT.
#   1. ZetaPrep.Bench gpu: every CUDA kernel's bytes == CPU kernel bytes on fresh random batches; kernel time vs the
#      device-to-device copy floor; batches back to back on 1, 2 and 4 streams beside a copy of their bytes; pinned copy
#      bandwidth; whole Mix calls on 1 and 4 streams (KERNELS=a,b limits the kernels it launches by name).
#   2. bench/gpu/authors_mix.py: the authors' PyTorch formulation on the same GPU.
#   3. generate on 4000 real photos (COUNT × 10) (400 + hard links) at --threads 1 2 4 8 16, --device cpu and cuda: throughput,
#      --profile, and the shards' SHA-256 (cpu and cuda must match); the Python peer on all cores.
#   4. whether TorchSharp's shim links against the machine's PyTorch libraries.
#   5. Nsight Compute (ncu) on one launch of each kernel in NCU_KERNELS (default: zeta_mix16r, which the pipeline
#      launches on sm_80+ for batches over 32 inputs, and zeta_mix16p) at batch NCU_BATCH (default 256; zeta_mix16t,
#      the tensor-core kernel for up to 32, takes 32), when the machine lets it read the counters; then stall reasons,
#      pipe use and shared-memory wavefronts as single metrics.
set -u
FINAL=${OUT:-/tmp/zeta-out}; OUT=/tmp/zeta-logs; rm -rf "$OUT"; mkdir -p "$OUT" "$FINAL"   # emptied: a warm machine keeps the last call's; packed into $FINAL/logs.tgz at the end
APP=${APP:-/tmp/app}
COUNT=${COUNT:-400}
[ -x "$APP/zetaprep" ] || { mkdir -p /tmp/unpack && tar -xJf .devc/app.tar.xz -C /tmp/unpack && APP=/tmp/unpack/app; }
export LD_LIBRARY_PATH=$PWD/.devc/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}   # Debian's libturbojpeg.so.0, if carried
export DOTNET_gcServer=0
STEPS=${STEPS:-0 1 2 3 4 5 6 7 8}          # which numbered sections to run
THREADS=${THREADS:-16 8 4 2 1 16}     # --threads values for section 3 (16 twice: the first run warms the page cache)
DEVICES=${DEVICES:-cpu cuda}          # --device values for section 3 (auto: CPU mixing until the GPU is ready)
W=${W:-/tmp/zw}; mkdir -p $W        # workloads
# The photo workloads sections 3, 6 and 7 run on: COUNT real photos cut by make_photos.py, and 10 hard links of each.
photos() {
  [ -d $W/photos400 ] || SKIMAGE_DATA=$PWD/.devc/skdata python3 bench/fixtures/make_photos.py $W/photos400 "$COUNT"
  [ -d $W/photos4000 ] || for c in $W/photos400/*/; do cls=$(basename "$c"); mkdir -p "$W/photos4000/$cls"
    for k in 0 1 2 3 4 5 6 7 8 9; do for f in "$c"*.jpg; do ln -f "$f" "$W/photos4000/$cls/r$k-$(basename "$f")"; done; done; done
}
step() { echo; echo "=== $* ($(date +%T))"; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
step machine
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,pcie.link.gen.max,pcie.link.width.max --format=csv
nproc; grep -m1 'model name' /proc/cpuinfo; free -g | head -2
if want 0; then step "0. the kernels' PTX through ptxas (resource report)"
"$APP/ZetaPrep.Bench" ptx > "$OUT/mix.ptx"
PTXAS=$(command -v ptxas || ls /usr/local/cuda*/bin/ptxas 2>/dev/null | head -1)
[ -n "$PTXAS" ] && "$PTXAS" -arch=sm_90 -v "$OUT/mix.ptx" -o /tmp/mix.cubin 2>&1 | tee "$OUT/ptxas.txt"
"$APP/ZetaPrep.Bench" ptx --quantized > "$OUT/mixq.ptx"
[ -n "$PTXAS" ] && "$PTXAS" -arch=sm_90 -v "$OUT/mixq.ptx" -o /tmp/mixq.cubin 2>&1 | tee -a "$OUT/ptxas.txt"
CUOBJDUMP=$(command -v cuobjdump || ls /usr/local/cuda*/bin/cuobjdump 2>/dev/null | head -1)
[ -n "$CUOBJDUMP" ] && [ -f /tmp/mixq.cubin ] && "$CUOBJDUMP" -sass /tmp/mixq.cubin > "$OUT/mixq.sass" 2>&1 && echo "zeta_mix16q SASS: $(grep -cE '^ +/\*[0-9a-f]{4}\*/' "$OUT/mixq.sass") instructions"
"$APP/ZetaPrep.Bench" ptx --pairs > "$OUT/mixp.ptx"
[ -n "$PTXAS" ] && "$PTXAS" -arch=sm_90 -v "$OUT/mixp.ptx" -o /tmp/mixp.cubin 2>&1 | tee -a "$OUT/ptxas.txt"
# Per entry of the pair module: SASS instructions (cuobjdump prints one "Function : name" block per entry).
[ -n "$CUOBJDUMP" ] && [ -f /tmp/mixp.cubin ] && "$CUOBJDUMP" -sass /tmp/mixp.cubin > "$OUT/mixp.sass" 2>&1 && awk '/Function :/ { if (f) print f": "n" instructions"; f=$3; n=0 } /^ +\/\*[0-9a-f]{4}\*\// { n++ } END { print f": "n" instructions" }' "$OUT/mixp.sass"
"$APP/ZetaPrep.Bench" ptx --resident > "$OUT/mixr.ptx"
[ -n "$PTXAS" ] && "$PTXAS" -arch=sm_90 -v "$OUT/mixr.ptx" -o /tmp/mixr.cubin 2>&1 | tee -a "$OUT/ptxas.txt"
[ -n "$CUOBJDUMP" ] && [ -f /tmp/mixr.cubin ] && "$CUOBJDUMP" -sass /tmp/mixr.cubin > "$OUT/mixr.sass" 2>&1 && awk '/Function :/ { if (f) print f": "n" instructions"; f=$3; n=0 } /^ +\/\*[0-9a-f]{4}\*\// { n++ } END { print f": "n" instructions" }' "$OUT/mixr.sass"
"$APP/ZetaPrep.Bench" ptx --tensor > "$OUT/mixt.ptx"
[ -n "$PTXAS" ] && "$PTXAS" -arch=sm_90 -v "$OUT/mixt.ptx" -o /tmp/mixt.cubin 2>&1 | tee -a "$OUT/ptxas.txt"
[ -n "$CUOBJDUMP" ] && [ -f /tmp/mixt.cubin ] && "$CUOBJDUMP" -sass /tmp/mixt.cubin > "$OUT/mixt.sass" 2>&1 && awk '/Function :/ { if (f) print f": "n" instructions"; f=$3; n=0 } /^ +\/\*[0-9a-f]{4}\*\// { n++ } END { print f": "n" instructions" }' "$OUT/mixt.sass"
fi
if want 1; then step "1. CUDA kernels: bytes and speed"
timeout 400 "$APP/ZetaPrep.Bench" gpu --size 224 ${KERNELS:+--kernels $KERNELS} > "$OUT/gpu_bench.txt" 2>&1; echo "rc=$?" >> "$OUT/gpu_bench.txt"
cat "$OUT/gpu_bench.txt"
fi
if want 2; then step "2. authors' PyTorch formulation"
PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/authors_mix.py 224 > "$OUT/authors.txt" 2>&1; echo "rc=$?" >> "$OUT/authors.txt"
cat "$OUT/authors.txt"
fi
if want 3; then step "3. end to end"
photos
"$APP/zetaprep" generate --in $W/photos400 --out $W/warm --size 224 --n 8 --gamma 2.8 --batch-size 32 --quiet --overwrite >/dev/null 2>&1
for t in $THREADS; do for d in $DEVICES; do
  s=$(date +%s.%N)
  timeout 120 "$APP/zetaprep" generate --in $W/photos4000 --out $W/o-$d-$t --size 224 --n 8 --gamma 2.8 --batch-size 32 \
    --threads $t --device $d --overwrite --profile > "$OUT/gen-$d-$t.txt" 2>&1; rc=$?
  e=$(date +%s.%N)
  sum=$(cat $W/o-$d-$t/data/*.parquet 2>/dev/null | sha256sum | cut -c1-16)
  echo "threads=$t device=$d rc=$rc $(awk -v s="$s" -v e="$e" -v n="$COUNT" 'BEGIN { printf "wall=%.2f img_per_s=%.0f", e - s, n * 10 / (e - s) }') shards=$sum mixed on $(grep -o '"device": "[a-z]*"' $W/o-$d-$t/manifest.json | tail -1 | cut -d'"' -f4)" | tee -a "$OUT/e2e.txt"
done; done
grep -h -i 'bound by\|mix\b\|^ *mix' "$OUT"/gen-cuda-16.txt "$OUT"/gen-cpu-16.txt | head -20
s=$(date +%s.%N); timeout 200 python3 bench/peers/zeta_peer.py $W/photos4000 $W/peer.tar --batch 32 --workers "$(nproc)" > "$OUT/peer.txt" 2>&1; rc=$?; e=$(date +%s.%N)
echo "python peer, $(nproc) workers: rc=$rc $(awk -v s="$s" -v e="$e" -v n="$COUNT" 'BEGIN { printf "wall=%.2f img_per_s=%.0f", e - s, n * 10 / (e - s) }')" | tee -a "$OUT/e2e.txt"
fi
if want 4; then step "4. TorchSharp 0.107 shim against this machine's PyTorch libs (FACTS.md §1 left it unverified)"
TL=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
LD_LIBRARY_PATH=$TL ldd -r "$APP/libLibTorchSharp.so" 2>&1 | grep -c 'undefined symbol' | sed 's/^/undefined symbols: /'
LD_LIBRARY_PATH=$TL ldd -r "$APP/libLibTorchSharp.so" 2>&1 | grep 'undefined symbol' | head -5 | c++filt | cut -c1-200
fi
if want 5; then step "5. Nsight Compute on the integer kernels (NCU_KERNELS), one launch each at batch ${NCU_BATCH:-256}, clocks left alone (if ncu is there and may read the counters)"
# `gpu --only-batch B` launches only the named kernel: 40 warm-up launches, then 7 × 40 timed; the 11th is profiled.
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
for k in ${NCU_KERNELS:-zeta_mix16r zeta_mix16p}; do
[ -n "$NCU" ] && timeout 150 "$NCU" --clock-control none -k "$k" --launch-skip 10 -c 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
  --section ComputeWorkloadAnalysis --section InstructionStats --section WarpStateStats --section Occupancy --section SchedulerStats \
  --section LaunchStats --section SourceCounters "$APP/ZetaPrep.Bench" gpu --size 224 --kernels "$k" --only-batch ${NCU_BATCH:-256} > "$OUT/ncu-$k.txt" 2>&1
[ -f "$OUT/ncu-$k.txt" ] && grep -v '^{' "$OUT/ncu-$k.txt" | grep -v '^ *$' | tail -110
# Stall reasons per issued instruction, pipe use, shared-memory wavefronts and bank conflicts (a second pass: a metric
# this ncu does not know fails only this one).
[ -n "$NCU" ] && timeout 150 "$NCU" --clock-control none -k "$k" --launch-skip 10 -c 1 \
  --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active,regex:sm__pipe_.*_cycles_active\.avg\.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum,smsp__inst_executed_op_shared_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_active' \
  "$APP/ZetaPrep.Bench" gpu --size 224 --kernels "$k" --only-batch ${NCU_BATCH:-256} > "$OUT/ncu-$k-metrics.txt" 2>&1
[ -f "$OUT/ncu-$k-metrics.txt" ] && grep -v '^{' "$OUT/ncu-$k-metrics.txt" | grep -v '^ *$' | grep -E 'stalled|pipe_|wavefronts|bank_conflicts|shared_ld|Duration|Eligible|Issued Ipc|Occupancy  |Registers|ERR|rror' | head -120
done
fi
if want 6; then step "6. batches of B + 1 inputs (a pass's lone leftover joins the last batch) on cuda, cpu and auto"
# 400 = 21 × 19 + 1: every pass ends with a batch of 20. Shards must match across devices and the dev VM's (LEFTOVER_SHA).
photos
for cfg in "z19|--batch-size 19 --n 8 --gamma 2.8" "m19|--batch-size 19 --method mixup" "b19|--batch-size 19 --n batch --gamma 2.8" "z7p|--batch-size 7 --n 3 --gamma 2.8 --passes 2 --keep-originals"; do
  name=${cfg%%|*}; for d in cpu cuda auto; do
    ZETAPREP_CACHE_DIR=none timeout 60 "$APP/zetaprep" generate --in $W/photos400 --out $W/l-$name-$d --size 224 ${cfg#*|} \
      --threads "$(nproc)" --device $d --overwrite --quiet > "$OUT/leftover-$name-$d.txt" 2>&1; rc=$?
    echo "$name device=$d rc=$rc shards=$(cat $W/l-$name-$d/data/*.parquet 2>/dev/null | sha256sum | cut -c1-16) mixed on $(grep -o '"device": "[a-z]*"' $W/l-$name-$d/manifest.json | tail -1 | cut -d'"' -f4)" | tee -a "$OUT/leftover.txt"
  done; done
fi
if want 7; then step "7. target 2 on all cores: end-to-end first runs (no verdict cache) against the codec floor just before and after"
photos; T=$(nproc)
[ -d $W/small64k ] || python3 -c '
import os, sys
src, dst = "samples/fashion-mnist", sys.argv[1]
for c in sorted(os.listdir(src)):
    os.makedirs(os.path.join(dst, c))
    for k in range(200):
        for f in sorted(os.listdir(os.path.join(src, c))): os.link(os.path.join(src, c, f), os.path.join(dst, c, "r%d-%s" % (k, f)))' $W/small64k
fl() { "$APP/ZetaPrep.Bench" floor --in "$1" --size "$2" --threads $T | grep -o '"images_per_s":[0-9.]*' | cut -d: -f2; }
# As bench/run.sh: --batch-size 32 for the photos, the default for small images, the last output removed before the clock
# starts (--overwrite deleting 300 MB of shards put ~0.08 s into a 0.3 s run).
gen() { local s e; rm -rf $W/t2; s=$(date +%s.%N); ZETAPREP_CACHE_DIR=none "$APP/zetaprep" generate --in "$1" --out $W/t2 --size "$2" --n 8 --gamma 2.8 --threads $T \
  $([ "$2" = 224 ] && echo --batch-size 32) --device "$3" --quiet --profile 2> "$OUT/t2-$(basename "$1")-$3.txt" > /dev/null; e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" -v n="$(find -L "$1" -type f | wc -l)" 'BEGIN { printf "%.0f", n / (e - s) }'; }
for round in 1 2 3; do for d in auto cpu; do
  A=$(fl $W/photos400 224); Z4=$(gen $W/photos400 224 $d); B=$(fl $W/photos400 224); Z40=$(gen $W/photos4000 224 $d); C=$(fl $W/photos400 224)
  echo "round $round device=$d floor $A $B $C img/s; 400 inputs $Z4 img/s ($(awk -v z=$Z4 -v a=$A -v b=$B 'BEGIN{printf "%.2f", 2*z/(a+b)}')); 4000 inputs $Z40 img/s ($(awk -v z=$Z40 -v a=$B -v b=$C 'BEGIN{printf "%.2f", 2*z/(a+b)}'))" | tee -a "$OUT/target2.txt"
done; done
for round in 1 2; do A=$(fl $W/small64k 28); S=$(gen $W/small64k 28 auto); B=$(fl $W/small64k 28)
  echo "small64k round $round: floor $A $B img/s; zetaprep $S img/s ($(awk -v z=$S -v a=$A -v b=$B 'BEGIN{printf "%.2f", 2*z/(a+b)}'))" | tee -a "$OUT/target2.txt"; done
grep -h 'bound by\|wall' "$OUT"/t2-photos400-auto.txt "$OUT"/t2-small64k-auto.txt | head -12
fi
if want 8; then step "8. --decode-memory on all cores: 32 PNGs of 6000×6000 (each decode ~144 MiB, over the 64 MiB gate)"
mkdir -p $W/big/a $W/big/b
[ -f $W/big/a/0.png ] || python3 -c '
import numpy as np, sys
from PIL import Image
y, x = np.mgrid[0:6000, 0:6000]
img = np.stack([(x * 255 // 5999), (y * 255 // 5999), ((x ^ y) & 255)], axis=-1).astype(np.uint8)
Image.fromarray(img).save(sys.argv[1], compress_level=1)' $W/big/a/0.png
for i in $(seq 1 15); do ln -f $W/big/a/0.png $W/big/a/$i.png; ln -f $W/big/a/0.png $W/big/b/$i.png; done; ln -f $W/big/a/0.png $W/big/b/0.png
ls -la $W/big/a/0.png
for m in ${MEMS:-auto 1GiB 4GiB 16GiB}; do s=$(date +%s.%N)
  ZETAPREP_CACHE_DIR=none timeout 120 "$APP/zetaprep" generate --in $W/big --out $W/bo --size 224 --n 8 --gamma 2.8 \
    --batch-size 8 --threads "$(nproc)" --decode-memory $m --overwrite --quiet --profile > /dev/null 2> "$OUT/big-$m.txt"; rc=$?; e=$(date +%s.%N)
  echo "--decode-memory $m rc=$rc $(awk -v s="$s" -v e="$e" 'BEGIN { printf "wall=%.2f s", e - s }') $(grep -o 'peak RSS [0-9]* MiB' "$OUT/big-$m.txt")" | tee -a "$OUT/decode-memory.txt"
done
fi
step done
tar -czf "$FINAL/logs.tgz" -C "$OUT" .
