#!/usr/bin/env bash
# make bench: builds the workloads, runs ZetaPrep (codec floor, kernels, end-to-end at 1 and 2 threads, memory at 1×
# and 10× inputs) and the Python peer in one run, and writes docs/BENCHMARKS.md. Needs Debian's python3-pil,
# python3-numpy and python3-skimage (installed here when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${BENCH_WORK:-/tmp/zetaprep-bench}
PY=/usr/bin/python3
CORES=$(nproc)
if ! $PY -c 'import PIL, numpy, skimage' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq python3-pil python3-numpy python3-skimage >/dev/null; else
    echo "bench: needs python3-pil python3-numpy python3-skimage (apt-get install)"; exit 1; fi
fi
mkdir -p "$WORK"
[ -d "$WORK/photos400" ] || $PY bench/fixtures/make_photos.py "$WORK/photos400" 400
if [ ! -d "$WORK/photos4000" ]; then  # 10× the inputs: hard links of the 400 photos under 10 prefixes
  for c in "$WORK"/photos400/*/; do cls=$(basename "$c"); mkdir -p "$WORK/photos4000/$cls"
    for k in 0 1 2 3 4 5 6 7 8 9; do for f in "$c"*.jpg; do ln -f "$f" "$WORK/photos4000/$cls/r$k-$(basename "$f")"; done; done; done
fi
make -s publish >/dev/null
Z=artifacts/zetaprep/zetaprep
dotnet build bench/ZetaPrep.Bench -c Release -v q >/dev/null
B="dotnet bench/ZetaPrep.Bench/bin/Release/net10.0/linux-x64/ZetaPrep.Bench.dll"

rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.1f", n / ((b - a) / 1e9)}'; } # images t0_ns t1_ns -> img/s
run_zeta() { # threads input -> "images_per_s peak_rss_mib": whole process wall clock, start-up included
  rm -rf "$WORK/out"
  local t0 t1 rows rss; t0=$(date +%s%N)
  nice -n -10 $Z generate --in "$2" --out "$WORK/out" --size 224 --n 8 --gamma 2.8 --batch-size 32 --threads "$1" --quiet --profile 2>"$WORK/profile.txt" >"$WORK/summary.txt"
  t1=$(date +%s%N)
  rows=$(grep -oE 'wrote [0-9]+ rows' "$WORK/summary.txt" | grep -oE '[0-9]+'); rss=$(grep -oE 'peak RSS [0-9]+' "$WORK/profile.txt" | grep -oE '[0-9]+$')
  echo "$(rate "$rows" "$t0" "$t1") $rss"
}

echo "bench: kernels"; KERNELS=$($B kernels --size 224 --in "$WORK/photos400")
echo "bench: codec floor"; FLOOR1=$(nice -n -10 $B floor --in "$WORK/photos400" --size 224 --threads 1); FLOORN=$(nice -n -10 $B floor --in "$WORK/photos400" --size 224 --threads "$CORES")
max() { awk -v a="$1" -v b="$2" 'BEGIN{print (a>b?a:b)}'; }
peer() { # input -> images/s over the whole process wall clock (interpreter start-up included), as run_zeta
  local t0 t1 n; t0=$(date +%s%N)
  n=$(nice -n -10 $PY bench/peers/zeta_peer.py "$1" "$WORK/peer.tar" --batch 32 --workers "$CORES" | $PY -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
  t1=$(date +%s%N); rate "$n" "$t0" "$t1"
}
echo "bench: zetaprep end-to-end"
Z1=0; ZN=0; RSS1=0
for i in 1 2 3; do read -r r m <<<"$(run_zeta "$CORES" "$WORK/photos400")"; ZN=$(max "$r" "$ZN"); RSS1=$m; done
cp "$WORK/profile.txt" "$WORK/profile-400.txt"
read -r Z1 _ <<<"$(run_zeta 1 "$WORK/photos400")"
read -r Z10 RSS10 <<<"$(run_zeta "$CORES" "$WORK/photos4000")"
cp "$WORK/profile.txt" "$WORK/profile-4000.txt"
read -r Z10_1 _ <<<"$(run_zeta 1 "$WORK/photos4000")"
echo "bench: python peer"
PEER=0; for i in 1 2 3; do PEER=$(max "$(peer "$WORK/photos400")" "$PEER"); done
PEER10=$(peer "$WORK/photos4000")
F1=$(echo "$FLOOR1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
FN=$(echo "$FLOORN" | $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d): $CPU, $CORES cores, $(free -g | awk '/Mem/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), CPU mixing."
  echo "Workload: 400 real-photo JPEGs 1024×768 (bench/fixtures/make_photos.py, cut from python3-skimage's photos) →"
  echo "\`zetaprep generate --size 224 --n 8 --gamma 2.8 --batch-size 32\` → 224×224 PNG in Parquet. Best of 3 runs each."
  echo
  echo "| target | 400 inputs (the issue's workload) | 4000 inputs (10×, steady state) | goal |"
  echo "|---|---|---|---|"
  echo "| 1. vs Python peer ($CORES workers; bench/peers/zeta_peer.py) | $ZN vs $PEER img/s = **$(awk -v a="$ZN" -v b="$PEER" 'BEGIN{printf "%.2f", a/b}')×** | $Z10 vs $PEER10 img/s = **$(awk -v a="$Z10" -v b="$PEER10" 'BEGIN{printf "%.2f", a/b}')×** | ≥ 2.5× |"
  echo "| 2. pipeline efficiency (end-to-end / codec floor $FN img/s, $CORES threads) | **$(awk -v a="$ZN" -v b="$FN" 'BEGIN{printf "%.2f", a/b}')** | **$(awk -v a="$Z10" -v b="$FN" 'BEGIN{printf "%.2f", a/b}')** | ≥ 0.9 |"
  echo "| 3. peak RSS | $RSS1 MiB | $RSS10 MiB ($(awk -v a="$RSS10" -v b="$RSS1" 'BEGIN{printf "%+.0f%%", 100*(a-b)/b}')) | ≤ 1024 MiB, within 10% |"
  echo "| 4. scaling --threads 1 → $CORES | $Z1 → $ZN img/s = **$(awk -v a="$ZN" -v b="$Z1" 'BEGIN{printf "%.2f", a/b}')×** | $Z10_1 → $Z10 img/s = **$(awk -v a="$Z10" -v b="$Z10_1" 'BEGIN{printf "%.2f", a/b}')×** | ≥ 1.8× on 2 cores |"
  echo
  echo "Codec floor (decode+resize each input once + PNG-encode one output each, inputs preloaded, no mix, no I/O): 1 thread $F1 img/s, $CORES threads $FN img/s."
  echo "Both img/s figures are images over the whole process's wall clock (start-up, listing, validation pass, all shards, manifest; the peer's interpreter and pool start-up). Codec floor and ZetaPrep decode with \`$(echo "$FLOORN" | $PY -c 'import json,sys; print(json.load(sys.stdin)["codec"])')\` (\`--codec auto\`)."
  echo
  echo "Kernels (medians): \`$KERNELS\`"
  echo
  echo "Stage profiles (\`--profile\`, thread-seconds summed over threads), 400 then 4000 inputs:"
  echo
  echo '```'
  cat "$WORK/profile-400.txt"
  echo
  cat "$WORK/profile-4000.txt"
  echo '```'
  cat bench/notes.md
} > docs/BENCHMARKS.md
cat docs/BENCHMARKS.md
