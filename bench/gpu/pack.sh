#!/bin/bash
# Builds .devc/, what bench/gpu/device_check.sh needs on a GPU machine that has no .NET: a self-contained publish of
# ZetaPrep.Bench and the CLI (native AOT, as `make publish`) in one folder, without the CPU libtorch (generate
# does not load it; ~470 MB), packed as app.tar.xz (~40 MB); Debian's libturbojpeg.so.0; the skimage photos that
# bench/fixtures/make_photos.py cuts the workload from. Add /.devc/ to .git/info/exclude and carry it.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .devc /tmp/zeta-pack && mkdir -p .devc/lib .devc/skdata /tmp/zeta-pack
# The bench first: the CLI's newer System.CommandLine must win over BenchmarkDotNet's.
dotnet publish bench/ZetaPrep.Bench/ZetaPrep.Bench.csproj -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=false -o /tmp/zeta-pack/app -v q
dotnet publish src/ZetaPrep.Cli/ZetaPrep.Cli.csproj -c Release -p:SelfContained=true -p:CppCompilerAndLinker="$(command -v clang >/dev/null && echo clang || echo gcc)" -o /tmp/zeta-pack/app -v q
(cd /tmp/zeta-pack/app && rm -f libtorch*.so libc10*.so libgomp* libbackend_with_compiler.so libjitbackend_test.so libshm.so \
  libtorchbind_test.so libnnapi_backend.so libaoti_custom_ops.so *.dbg *.pdb && ./zetaprep --version && ./ZetaPrep.Bench ptx > /dev/null)
tar -cJf .devc/app.tar.xz -C /tmp/zeta-pack app
cp -L /usr/lib/x86_64-linux-gnu/libturbojpeg.so.0 .devc/lib/
cp -L /usr/lib/x86_64-linux-gnu/libdeflate.so.0 .devc/lib/ 2>/dev/null || true   # zip entries inflate with it when present
(cd /usr/lib/python3/dist-packages/skimage/data && cp retina.jpg hubble_deep_field.jpg astronaut.png coffee.png chelsea.png \
  rocket.jpg motorcycle_left.png motorcycle_right.png ihc.png color.png "$OLDPWD/.devc/skdata/")
du -sh .devc
