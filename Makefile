# ZetaPrep — everything a fresh machine with the .NET 10 SDK needs: `make demo`, `make test`.
SHELL := /bin/bash
CONFIG ?= Release
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
PUBLISH_DIR := artifacts/zetaprep
ZETAPREP := $(PUBLISH_DIR)/zetaprep
DEMO_OUT ?= demo-out

.PHONY: all restore build test demo publish publish-jit aot-smoke bench bench-kernels format format-check clean

all: build

restore:
	$(DOTNET) restore ZetaPrep.sln

build: restore
	$(DOTNET) build ZetaPrep.sln -c $(CONFIG) --no-restore

# Runs every test project; prints one closing line "N passed, N failed, N skipped".
test: build
	@set -o pipefail; $(DOTNET) test ZetaPrep.sln -c $(CONFIG) --no-build 2>&1 | tee artifacts-test.log; status=$$?; \
	awk '/Passed!|Failed!/ { for (i = 1; i <= NF; i++) { if ($$i == "Failed:") f += $$(i+1); if ($$i == "Passed:") p += $$(i+1); if ($$i == "Skipped:") s += $$(i+1) } } \
	     END { gsub(",", "", p); printf "%d passed, %d failed, %d skipped\n", p, f, s }' artifacts-test.log; rm -f artifacts-test.log; exit $$status

# Native AOT (one executable plus the native libraries it loads; runs where no .NET is installed): an 8-image generate
# takes 0.08 s instead of the JIT build's 0.30 s (docs/BENCHMARKS.md). ILC links with clang, else gcc, and the
# binary targets x86-64-v3 (AVX2); without a C compiler or on an older CPU this builds `publish-jit` instead.
AOT_LINKER := $(shell command -v clang >/dev/null 2>&1 && echo clang || { command -v gcc >/dev/null 2>&1 && echo gcc; })
AOT_CPU := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo avx2)
publish: restore
ifneq ($(and $(AOT_LINKER),$(AOT_CPU)),)
	rm -rf $(PUBLISH_DIR)
	$(DOTNET) publish src/ZetaPrep.Cli/ZetaPrep.Cli.csproj -c $(CONFIG) -p:SelfContained=true -p:CppCompilerAndLinker=$(AOT_LINKER) -o $(PUBLISH_DIR)
else
	@echo "make publish: no clang/gcc or no AVX2 here, so the JIT build (make publish-jit), not native AOT"
	$(MAKE) publish-jit
endif

# Self-contained JIT build, the framework and the app precompiled together (composite ReadyToRun); runs on any x64.
publish-jit: restore
	rm -rf $(PUBLISH_DIR)
	$(DOTNET) publish src/ZetaPrep.Cli/ZetaPrep.Cli.csproj -c $(CONFIG) -p:PublishAot=false -p:SelfContained=true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true -o $(PUBLISH_DIR)

# The published tool against the JIT build on every command (same shard bytes, same training curves): .ci/aot-smoke.
aot-smoke: build publish
	bash .ci/aot-smoke

# The main job on the embedded sample data (320 Fashion-MNIST images, samples/README.md).
demo: publish
	$(ZETAPREP) info
	$(ZETAPREP) generate --in samples/fashion-mnist --out $(DEMO_OUT) --n 8 --gamma 2.8 --size 28 --seed 0 --overwrite
	$(ZETAPREP) verify $(DEMO_OUT)
	@echo "Shards: $(DEMO_OUT)/data/  manifest: $(DEMO_OUT)/manifest.json"

# Throughput/memory benchmark vs the codec floor and the Python peer; rewrites docs/BENCHMARKS.md.
bench: restore
	bash bench/run.sh

# BenchmarkDotNet kernels (ζ weights, plan, mix, decode, PNG encode, Parquet write, zip and PNG inflate); rewrites docs/BENCHMARKS-kernels.md.
# BDN_ARGS narrows the run, e.g. make bench-kernels BDN_ARGS="--filter '*Codec*'"; photos from ZETAPREP_BENCH_PHOTOS.
BDN_ARGS ?= --filter '*'
BDN_DIR := artifacts/bdn
bench-kernels: restore
	$(DOTNET) build bench/ZetaPrep.Bench -c Release --no-restore -v q
	rm -rf $(BDN_DIR)
	$(DOTNET) bench/ZetaPrep.Bench/bin/Release/net10.0/linux-x64/ZetaPrep.Bench.dll bdn $(BDN_ARGS) --artifacts $(BDN_DIR)
	@{ echo "# Kernel benchmarks (BenchmarkDotNet)"; echo; \
	   echo "Made by \`make bench-kernels\` on $$(nproc) cores, decode input: $${ZETAPREP_BENCH_PHOTOS:-synthetic 1024×768 JPEG}. Short in-process job"; \
	   echo "(3 warm-ups, 10 iterations): fit for spotting regressions of 10 % or more, not for finer claims."; echo; \
	   cat $(BDN_DIR)/results/*-report-github.md; } > docs/BENCHMARKS-kernels.md
	@echo "Wrote docs/BENCHMARKS-kernels.md"

format:
	$(DOTNET) format ZetaPrep.sln

format-check:
	$(DOTNET) format ZetaPrep.sln --verify-no-changes

clean:
	rm -rf artifacts $(DEMO_OUT)
	$(DOTNET) clean ZetaPrep.sln -c $(CONFIG)
