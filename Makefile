# ZetaPrep — everything a fresh machine with the .NET 10 SDK needs: `make demo`, `make test`.
SHELL := /bin/bash
CONFIG ?= Release
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
PUBLISH_DIR := artifacts/zetaprep
ZETAPREP := $(PUBLISH_DIR)/zetaprep
DEMO_OUT ?= demo-out

.PHONY: all restore build test demo publish bench bench-kernels format format-check clean

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

# Self-contained, with the framework and the app precompiled together (composite ReadyToRun): ~0.3 s less start-up
# JIT per run than framework-dependent ReadyToRun (docs/BENCHMARKS.md), and it runs where no .NET is installed.
publish: restore
	$(DOTNET) publish src/ZetaPrep.Cli/ZetaPrep.Cli.csproj -c $(CONFIG) -p:SelfContained=true -p:PublishReadyToRunComposite=true -o $(PUBLISH_DIR)

# The main job on the embedded sample data (320 Fashion-MNIST images, samples/README.md).
demo: publish
	$(ZETAPREP) info
	$(ZETAPREP) generate --in samples/fashion-mnist --out $(DEMO_OUT) --n 8 --gamma 2.8 --size 28 --seed 0 --overwrite
	$(ZETAPREP) verify $(DEMO_OUT)
	@echo "Shards: $(DEMO_OUT)/data/  manifest: $(DEMO_OUT)/manifest.json"

# Throughput/memory benchmark vs the codec floor and the Python peer; rewrites docs/BENCHMARKS.md.
bench: restore
	bash bench/run.sh

# BenchmarkDotNet kernels (ζ weights, plan, mix, decode, PNG encode, Parquet write); rewrites docs/BENCHMARKS-kernels.md.
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
