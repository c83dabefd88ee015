#!/bin/bash
# Issue 8, target 5 (and target 4's 1..16 threads), on a lent GPU machine (no .NET there): run from the repository
# root with .devc/ carried: app.tar.xz (self-contained publish of the CLI and ZetaPrep.Bench without libtorch),
# lib/libturbojpeg.so.0 (Debian's) and skdata/ (the skimage photos make_photos.py cuts from). bench/gpu/README.md
# says how to build it. Writes logs to $OUT.
#   1. ZetaPrep.Bench gpu: every CUDA kernel's bytes == CPU kernel bytes on fresh random batches; kernel time vs the
#      device-to-device copy floor; pinned copy bandwidth; whole Mix calls on 1 and 4 streams (KERNELS=a,b limits
#      the kernels it launches by name).
#   2. bench/gpu/authors_mix.py: the authors' PyTorch formulation on the same GPU.
#   3. generate on 4000 real photos (COUNT × 10) (400 + hard links) at --threads 1 2 4 8 16, --device cpu and cuda: throughput,
#      --profile, and the shards' SHA-256 (cpu and cuda must match); the Python peer on all cores.
#   4. whether TorchSharp's shim links against the machine's PyTorch libraries.
#   5. Nsight Compute (ncu) on one launch of the kernel the pipeline uses, when the machine lets it read the counters.
set -u
FINAL=${OUT:-/tmp/zeta-out}; OUT=/tmp/zeta-logs; mkdir -p "$OUT" "$FINAL"   # logs are packed into $FINAL/logs.tgz at the end
APP=${APP:-/tmp/app}
COUNT=${COUNT:-400}
[ -x "$APP/zetaprep" ] || { mkdir -p /tmp/unpack && tar -xJf .devc/app.tar.xz -C /tmp/unpack && APP=/tmp/unpack/app; }
export LD_LIBRARY_PATH=$PWD/.devc/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}   # Debian's libturbojpeg.so.0, if carried
export DOTNET_gcServer=0
STEPS=${STEPS:-0 1 2 3 4 5}          # which numbered sections to run
THREADS=${THREADS:-16 8 4 2 1 16}     # --threads values for section 3 (16 twice: the first run warms the page cache)
DEVICES=${DEVICES:-cpu cuda}          # --device values for section 3 (auto: CPU mixing until the GPU is ready)
step() { echo; echo "=== $* ($(date +%T))"; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
step machine
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,pcie.link.gen.max,pcie.link.width.max --format=csv
nproc; grep -m1 'model name' /proc/cpuinfo; free -g | head -2
if want 0; then step "0. the kernels' PTX through ptxas (resource report)"
"$APP/ZetaPrep.Bench" ptx > "$OUT/mix.ptx"
PTXAS=$(command -v ptxas || ls /usr/local/cuda*/bin/ptxas 2>/dev/null | head -1)
[ -n "$PTXAS" ] && "$PTXAS" -arch=sm_90 -v "$OUT/mix.ptx" -o /tmp/mix.cubin 2>&1 | tee "$OUT/ptxas.txt"
fi
if want 1; then step "1. CUDA kernels: bytes and speed"
timeout 240 "$APP/ZetaPrep.Bench" gpu --size 224 ${KERNELS:+--kernels $KERNELS} > "$OUT/gpu_bench.txt" 2>&1; echo "rc=$?" >> "$OUT/gpu_bench.txt"
cat "$OUT/gpu_bench.txt"
fi
if want 2; then step "2. authors' PyTorch formulation"
PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/authors_mix.py 224 > "$OUT/authors.txt" 2>&1; echo "rc=$?" >> "$OUT/authors.txt"
cat "$OUT/authors.txt"
fi
if want 3; then step "3. end to end"
W=${W:-/tmp/zw}; mkdir -p $W
[ -d $W/photos400 ] || SKIMAGE_DATA=$PWD/.devc/skdata python3 bench/fixtures/make_photos.py $W/photos400 "$COUNT"
[ -d $W/photos4000 ] || for c in $W/photos400/*/; do cls=$(basename "$c"); mkdir -p "$W/photos4000/$cls"
  for k in 0 1 2 3 4 5 6 7 8 9; do for f in "$c"*.jpg; do ln -f "$f" "$W/photos4000/$cls/r$k-$(basename "$f")"; done; done; done
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
if want 5; then step "5. Nsight Compute on zeta_mix16s, one launch at batch 256 (if ncu is there and may read the counters)"
# Launches of zeta_mix16s before it in that process: 6 in the byte checks, then 8 × 40 per batch of 32, 64 and 128.
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
[ -n "$NCU" ] && timeout 150 "$NCU" -k zeta_mix16s --launch-skip 966 -c 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
  --section ComputeWorkloadAnalysis --section WarpStateStats --section Occupancy --section SchedulerStats \
  "$APP/ZetaPrep.Bench" gpu --size 224 --kernels zeta_mix16s > "$OUT/ncu.txt" 2>&1
[ -f "$OUT/ncu.txt" ] && grep -v '^{' "$OUT/ncu.txt" | tail -120
fi
step done
tar -czf "$FINAL/logs.tgz" -C "$OUT" .
