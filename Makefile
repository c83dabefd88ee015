# ZetaPrep — everything a fresh machine with the .NET 10 SDK needs: `make demo`, `make test`.
SHELL := /bin/bash
CONFIG ?= Release
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
PUBLISH_DIR := artifacts/zetaprep
ZETAPREP := $(PUBLISH_DIR)/zetaprep
DEMO_OUT ?= demo-out

.PHONY: all restore build test demo publish bench format format-check clean

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

publish: restore
	$(DOTNET) publish src/ZetaPrep.Cli/ZetaPrep.Cli.csproj -c $(CONFIG) --no-restore -o $(PUBLISH_DIR)

# The main job on the embedded sample data (320 Fashion-MNIST images, samples/README.md).
demo: publish
	$(ZETAPREP) info
	$(ZETAPREP) generate --in samples/fashion-mnist --out $(DEMO_OUT) --n 8 --gamma 2.8 --size 28 --seed 0 --overwrite
	$(ZETAPREP) verify $(DEMO_OUT)
	@echo "Shards: $(DEMO_OUT)/data/  manifest: $(DEMO_OUT)/manifest.json"

# Throughput/memory benchmark vs the codec floor and the Python peer; rewrites docs/BENCHMARKS.md.
bench: restore
	bash bench/run.sh

format:
	$(DOTNET) format ZetaPrep.sln

format-check:
	$(DOTNET) format ZetaPrep.sln --verify-no-changes

clean:
	rm -rf artifacts $(DEMO_OUT)
	$(DOTNET) clean ZetaPrep.sln -c $(CONFIG)
