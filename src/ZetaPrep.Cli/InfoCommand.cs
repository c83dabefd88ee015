using System.CommandLine;
using ZetaPrep.Mixing;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep info`: versions and the devices torch can use here — proves the native libraries load.</summary>
internal static class InfoCommand
{
    public static Command Create(TextWriter stdout)
    {
        var command = new Command("info", "Show the tool version, the libtorch build in use and whether CUDA is available to it, the GPU generate mixes on, which image codecs and zip inflater load and where downloads' hashes are cached.");
        command.SetAction(async (parse, ct) =>
        {
            TorchRuntime.EnsureLoaded();
            await stdout.WriteLineAsync($"zetaprep {Pipeline.DatasetGenerator.ToolVersion}").ConfigureAwait(false);
            await stdout.WriteLineAsync(TorchRuntime.Describe()).ConfigureAwait(false);
            // generate's own GPU kernel needs only the NVIDIA driver, not a CUDA libtorch.
            await stdout.WriteLineAsync(Mixing.Cuda.CudaMixer.IsAvailable(out var noCuda)
                ? $"generate mixes on: cuda, {Mixing.Cuda.CudaMixer.Describe()}"
                : $"generate mixes on: cpu ({noCuda})").ConfigureAwait(false);
            foreach (var line in Imaging.ImageCodecs.Describe())
            {
                await stdout.WriteLineAsync(line).ConfigureAwait(false);
            }
            await stdout.WriteLineAsync(Sources.Libdeflate.IsAvailable
                ? $"zip entries and PNG checks inflate with: libdeflate ({Sources.Libdeflate.Library}); 8-bit grey, RGB and RGBA PNGs (not interlaced) decode with it too, the same pixels as Skia"
                : $"zip entries and PNG checks inflate with: zlib-ng (System.IO.Compression; {Sources.Libdeflate.Library} not found: apt-get install libdeflate0 inflates them, and decodes most PNGs, faster)").ConfigureAwait(false);
            await stdout.WriteLineAsync(Sources.FileHashCache.FromEnvironment() is { } cache
                ? $"file-hash cache: {cache.Directory} (downloads' SHA-256 kept between runs; {Sources.FileHashCache.DirectoryVariable}=none turns it off)"
                : $"file-hash cache: off ({Sources.FileHashCache.DirectoryVariable}=none, or no home directory)").ConfigureAwait(false);
            await stdout.WriteLineAsync($"γ_min = {ZetaWeights.GammaMin:F5}").ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
