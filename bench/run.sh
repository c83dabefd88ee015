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
# The table's ZetaPrep runs are first runs over their input (ZETAPREP_CACHE_DIR=none: no validation verdicts or file
# hashes kept from an earlier run); run_zeta_warm measures a later run over the same files, the cache warm.
run_zeta() { # threads input -> "images_per_s peak_rss_mib": whole process wall clock, start-up included
  rm -rf "$WORK/out"
  local t0 t1 rows rss; t0=$(date +%s%N)
  ZETAPREP_CACHE_DIR=${CACHE:-none} nice -n -10 $Z generate --in "$2" --out "$WORK/out" --size 224 --n 8 --gamma 2.8 --batch-size 32 --threads "$1" --quiet --profile 2>"$WORK/profile.txt" >"$WORK/summary.txt"
  t1=$(date +%s%N)
  rows=$(grep -oE 'wrote [0-9]+ rows' "$WORK/summary.txt" | grep -oE '[0-9]+'); rss=$(grep -oE 'peak RSS [0-9]+' "$WORK/profile.txt" | grep -oE '[0-9]+$')
  echo "$(rate "$rows" "$t0" "$t1") $rss"
}

run_zeta_warm() { CACHE="$WORK/cache" run_zeta "$@"; }
rm -rf "$WORK/cache"; run_zeta_warm "$CORES" "$WORK/photos4000" >/dev/null # fills the cache: later runs are warm

echo "bench: kernels"; KERNELS=$($B kernels --size 224 --in "$WORK/photos400")
echo "bench: budget (one thread: the floor's work and each cost a first run adds by design)"
BUDGET=$(nice -n -10 $B budget --size 224 --in "$WORK/photos400")
budget() { echo "$BUDGET" | $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
peer() { # input -> images/s over the whole process wall clock (interpreter start-up included), as run_zeta
  local t0 t1 n; t0=$(date +%s%N)
  n=$(nice -n -10 $PY bench/peers/zeta_peer.py "$1" "$WORK/peer.tar" --batch 32 --workers "$CORES" | $PY -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
  t1=$(date +%s%N); rate "$n" "$t0" "$t1"
}
floor() { nice -n -10 $B floor --in "$WORK/photos400" --size 224 --threads "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
# Median and range of per-round values, DECIMALS places: "median (min–max)".
stat() { local d=$1; shift; printf '%s\n' "$@" | sort -g | awk -v d="$d" '{v[NR]=$1} END{f="%." d "f"; printf f " (" f "–" f ")", v[int((NR+1)/2)], v[1], v[NR]}'; }

# The VM's speed drifts by tens of per cent within minutes, so every ratio is taken between runs made back to back,
# in ROUNDS rounds; the table gives each ratio's median over the rounds and its range.
ROUNDS=${BENCH_ROUNDS:-5}
T2W_4000=(); Z10W_ALL=(); T1_400=(); T1_4000=(); T2_400=(); T2_4000=(); T4_400=(); T4_4000=(); ZN_ALL=(); Z10_ALL=(); PEER_ALL=(); PEER10_ALL=(); FN_ALL=(); RSS1_ALL=(); RSS10_ALL=(); RSS_GROWTH=()
mean() { awk -v a="$1" -v b="$2" 'BEGIN{print (a+b)/2}'; }
for round in $(seq "$ROUNDS"); do
  echo "bench: round $round of $ROUNDS (400 then 4000 inputs: codec floor, zetaprep at $CORES threads, floor again, (4000: zetaprep with a warm cache, floor again,) zetaprep at 1 thread, python peer)"
  # Target 2 compares each end-to-end run with the floor measured just before and just after it, so the VM's drift
  # between the two (tens of per cent within a minute, seen in earlier runs) stays out of the ratio.
  FA=$(floor "$CORES")
  read -r ZN RSS1 <<<"$(run_zeta "$CORES" "$WORK/photos400")"; [ "$round" = 1 ] && cp "$WORK/profile.txt" "$WORK/profile-400.txt"
  FB=$(floor "$CORES")
  read -r Z1 _ <<<"$(run_zeta 1 "$WORK/photos400")"
  PEER=$(peer "$WORK/photos400")
  FC=$(floor "$CORES")
  read -r Z10 RSS10 <<<"$(run_zeta "$CORES" "$WORK/photos4000")"; [ "$round" = 1 ] && cp "$WORK/profile.txt" "$WORK/profile-4000.txt"
  FD=$(floor "$CORES")
  read -r Z10W _ <<<"$(run_zeta_warm "$CORES" "$WORK/photos4000")"
  FE=$(floor "$CORES")
  read -r Z10_1 _ <<<"$(run_zeta 1 "$WORK/photos4000")"
  PEER10=$(peer "$WORK/photos4000")
  FN_ALL+=("$FA" "$FB" "$FC" "$FD" "$FE")
  T2W_4000+=("$(div "$Z10W" "$(mean "$FD" "$FE")")"); Z10W_ALL+=("$Z10W")
  ZN_ALL+=("$ZN"); Z10_ALL+=("$Z10"); PEER_ALL+=("$PEER"); PEER10_ALL+=("$PEER10"); RSS1_ALL+=("$RSS1"); RSS10_ALL+=("$RSS10")
  T1_400+=("$(div "$ZN" "$PEER")"); T1_4000+=("$(div "$Z10" "$PEER10")")
  T2_400+=("$(div "$ZN" "$(mean "$FA" "$FB")")"); T2_4000+=("$(div "$Z10" "$(mean "$FC" "$FD")")")
  T4_400+=("$(div "$ZN" "$Z1")"); T4_4000+=("$(div "$Z10" "$Z10_1")")
  RSS_GROWTH+=("$(awk -v a="$RSS10" -v b="$RSS1" 'BEGIN{printf "%.2f", 100*(a-b)/b}')")
done
# The main job's input: an ISIC-layout download (a deflated zip of large JPEGs and its label CSV). Each round: a run with
# an empty file-hash cache (the archive hashed beside the run), then one over the same download (its hash remembered).
ISIC_ZIP="$WORK/isic/isic2017/ISIC-2017_Training_Data.zip"
if [ ! -f "$ISIC_ZIP" ]; then $PY bench/fixtures/make_isic.py "$WORK/isic/isic2017" 600; sleep 1.1; fi # a file changed in the last second is not remembered
run_isic() { # cache_dir -> images/s over the whole process; leaves --profile in $WORK/profile.txt
  rm -rf "$WORK/out"
  local t0 t1 rows; t0=$(date +%s%N)
  ZETAPREP_CACHE_DIR="$1" nice -n -10 $Z generate --in isic2017 --data-dir "$WORK/isic" --out "$WORK/out" --size 224 --n 8 --gamma 2.8 --batch-size 32 --quiet --profile 2>"$WORK/profile.txt" >"$WORK/summary.txt"
  t1=$(date +%s%N)
  rows=$(grep -oE 'wrote [0-9]+ rows' "$WORK/summary.txt" | grep -oE '[0-9]+'); rate "$rows" "$t0" "$t1"
}
ISIC_COLD=(); ISIC_WARM=()
for round in 1 2 3; do
  echo "bench: ISIC-layout archive, round $round of 3 (empty file-hash cache, then the same download again)"
  rm -rf "$WORK/isic-cache"
  ISIC_COLD+=("$(run_isic "$WORK/isic-cache")"); [ "$round" = 1 ] && cp "$WORK/profile.txt" "$WORK/profile-isic-first.txt"
  ISIC_WARM+=("$(run_isic "$WORK/isic-cache")"); [ "$round" = 1 ] && cp "$WORK/profile.txt" "$WORK/profile-isic-again.txt"
done
ISIC_MIB=$(( $(wc -c < "$ISIC_ZIP") / 1048576 ))
# Small images (MNIST-, MedMNIST- and CIFAR-sized datasets): 64,000 28×28 PNGs, the embedded Fashion-MNIST samples each
# hard-linked 200 times. Per-file costs (reads, the validation pass, Parquet rows) weigh here as the codecs do not.
if [ ! -d "$WORK/small64k" ]; then
  for c in samples/fashion-mnist/*/; do cls=$(basename "$c"); mkdir -p "$WORK/small64k/$cls"
    for k in $(seq 0 199); do for f in "$c"*.png; do ln -f "$f" "$WORK/small64k/$cls/r$k-$(basename "$f")"; done; done; done
fi
run_small() { # -> images/s over the whole process; leaves --profile in $WORK/profile.txt
  rm -rf "$WORK/out"
  local t0 t1 rows; t0=$(date +%s%N)
  ZETAPREP_CACHE_DIR=none nice -n -10 $Z generate --in "$WORK/small64k" --out "$WORK/out" --size 28 --n 8 --gamma 2.8 --threads "$CORES" --quiet --profile 2>"$WORK/profile.txt" >"$WORK/summary.txt"
  t1=$(date +%s%N)
  rows=$(grep -oE 'wrote [0-9]+ rows' "$WORK/summary.txt" | grep -oE '[0-9]+'); rate "$rows" "$t0" "$t1"
}
small_floor() { nice -n -10 $B floor --in "$WORK/small64k" --size 28 --threads "$CORES" | $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])'; }
SMALL=(); SMALL_FLOOR=(); SMALL_T2=()
for round in 1 2 3; do
  echo "bench: small images, round $round of 3 (floor, zetaprep, floor)"
  SA=$(small_floor); S=$(run_small); [ "$round" = 1 ] && cp "$WORK/profile.txt" "$WORK/profile-small.txt"; SB=$(small_floor)
  SMALL+=("$S"); SMALL_FLOOR+=("$SA" "$SB"); SMALL_T2+=("$(div "$S" "$(mean "$SA" "$SB")")")
done
F1JSON=$(nice -n -10 $B floor --in "$WORK/photos400" --size 224 --threads 1)
F1=$(echo "$F1JSON" | $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
CODEC=$(echo "$F1JSON" | $PY -c 'import json,sys; print(json.load(sys.stdin)["codec"])')
# Which inflater zip entries and PNG checks used (libdeflate when libdeflate0 is installed, else .NET's zlib-ng).
INFLATER=$($Z info 2>/dev/null | sed -n 's/^zip entries and PNG checks inflate with: \([a-z-]*\).*/\1/p')
FN=$(stat 0 "${FN_ALL[@]}")
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d): $CPU, $CORES cores, $(free -g | awk '/Mem/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), CPU mixing."
  echo "Workload: 400 real-photo JPEGs 1024×768 (bench/fixtures/make_photos.py, cut from python3-skimage's photos) →"
  echo "\`zetaprep generate --size 224 --n 8 --gamma 2.8 --batch-size 32\` → 224×224 PNG in Parquet."
  echo
  echo "| target | 400 inputs (the issue's workload) | 4000 inputs (10×, steady state) | goal |"
  echo "|---|---|---|---|"
  echo "| 1. vs Python peer ($CORES workers; bench/peers/zeta_peer.py) | **$(stat 2 "${T1_400[@]}")×** (ZetaPrep $(stat 0 "${ZN_ALL[@]}"), peer $(stat 0 "${PEER_ALL[@]}") img/s) | **$(stat 2 "${T1_4000[@]}")×** (ZetaPrep $(stat 0 "${Z10_ALL[@]}"), peer $(stat 0 "${PEER10_ALL[@]}") img/s) | ≥ 2.5× |"
  echo "| 2. pipeline efficiency (end-to-end / codec floor, $CORES threads) | **$(stat 2 "${T2_400[@]}")** | **$(stat 2 "${T2_4000[@]}")** | ≥ 0.9 |"
  echo "| 3. peak RSS, MiB | $(stat 0 "${RSS1_ALL[@]}") | $(stat 0 "${RSS10_ALL[@]}"), growth $(stat 0 "${RSS_GROWTH[@]}") % | ≤ 1024 MiB, within 10% |"
  echo "| 4. scaling --threads 1 → $CORES | **$(stat 2 "${T4_400[@]}")×** | **$(stat 2 "${T4_4000[@]}")×** | ≥ 1.8× on 2 cores |"
  echo
  echo "Each cell: median over $ROUNDS rounds (min–max). A round runs, on 400 then on 4000 inputs: the codec floor, ZetaPrep at $CORES threads, the floor again, (at 4000 inputs: ZetaPrep with a warm cache, the floor again,) ZetaPrep at 1 thread, the peer; every ratio is taken within its round, and target 2 divides each ZetaPrep run by the mean of the two floors measured just before and just after it."
  echo "Codec floor (decode+resize each input once + PNG-encode each of the run's ζ-mixed outputs once, inputs preloaded and outputs mixed before the clock starts, no I/O): 1 thread $F1 img/s, $CORES threads $FN img/s."
  echo "The table's ZetaPrep runs are first runs over their input (\`ZETAPREP_CACHE_DIR=none\`). A later run over the same 4000 unchanged files takes the validation pass's verdicts from the cache (README, Generate): $(stat 0 "${Z10W_ALL[@]}") img/s, efficiency **$(stat 2 "${T2W_4000[@]}")** (each against the floors just before and after it)."
  echo "What target 2 can reach with a first run's guarantees kept (\`ZetaPrep.Bench budget\`, one thread, CPU ms per image, medians of 5 rounds): the floor's decode+resize+encode $(budget floor_ms); on top of it, by design, every input read twice (validation pass, then its batch) $(budget read_ms) each, hashed $(budget input_sha256_ms) (SHA-256, the fingerprint) and checked $(budget checks_ms) (header, limits, structure), the mix $(budget mix_ms), and every output hashed $(budget output_sha256_ms) (SHA-256, the manifest) and written $(budget output_write_ms): $(budget overhead_ms) ms. A pipeline that added nothing else (no framing, queues, threads or start-up) would measure about **$(budget ceiling)** on one thread; two threads and the VM's drift move each run around that."
  echo "Both img/s figures are images over the whole process's wall clock (start-up, listing, validation pass, all shards, manifest; the peer's interpreter and pool start-up). Codec floor and ZetaPrep decode with \`$CODEC\` (\`--codec auto\`)."
  echo
  echo "Archive workload (the main job, \`--in isic2017\`): 600 JPEGs of 3008×2000 (quality 97, ~1.1 MB) deflated in an ISIC 2017 training zip of $ISIC_MIB MiB plus its ground-truth CSV (bench/fixtures/make_isic.py), same options, $CORES threads, the zip in the page cache, entries inflated with ${INFLATER:-?}: a first run over the download (its SHA-256 computed beside the run) **$(stat 1 "${ISIC_COLD[@]}") img/s**, a later run over the same download (that SHA-256 from the file-hash cache) **$(stat 1 "${ISIC_WARM[@]}") img/s** (medians of 3 rounds, min–max)."
  echo
  echo "Small images: 64,000 28×28 grayscale PNGs (the embedded Fashion-MNIST samples, each hard-linked 200 times: the size of MNIST, MedMNIST and CIFAR datasets), \`--size 28\`, otherwise the same options, $CORES threads, first runs: **$(stat 0 "${SMALL[@]}") img/s** against a codec floor of $(stat 0 "${SMALL_FLOOR[@]}") img/s, efficiency **$(stat 2 "${SMALL_T2[@]}")** (medians of 3 rounds, min–max; each run against the floors just before and after it). At this size each file's fixed costs (open and read it — once: the validation pass keeps files of up to 16 KiB for their batches —, the pass's checks and SHA-256, a Parquet row) weigh as much as decoding and encoding it."
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
  echo
  echo "The archive workload's first and later run (round 1):"
  echo
  echo '```'
  cat "$WORK/profile-isic-first.txt"
  echo
  cat "$WORK/profile-isic-again.txt"
  echo '```'
  echo
  echo "Small images (round 1):"
  echo
  echo '```'
  cat "$WORK/profile-small.txt"
  echo '```'
  cat bench/notes.md
} > docs/BENCHMARKS.md
cat docs/BENCHMARKS.md
