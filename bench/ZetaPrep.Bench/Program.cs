using System.Diagnostics;
using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Sources;

namespace ZetaPrep.Bench;

/// <summary>
/// End-to-end throughput harness (make bench): generates from an ImageFolder at several thread counts and reports
/// images/s and peak RSS, plus the W@X mixing kernel alone. Results go to docs/BENCHMARKS.md by hand, with the machine.
/// Usage: ZetaPrep.Bench [--in DIR] [--size S] [--n N] [--threads 1,2] [--repeat R]
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var input = Arg(args, "--in") ?? Path.Combine(FindRepoRoot(), "samples", "fashion-mnist");
        var size = int.Parse(Arg(args, "--size") ?? "28", CultureInfo.InvariantCulture);
        var n = Arg(args, "--n") ?? "8";
        var threadCounts = (Arg(args, "--threads") ?? $"1,{Environment.ProcessorCount}").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).Distinct().ToArray();
        var repeat = int.Parse(Arg(args, "--repeat") ?? "3", CultureInfo.InvariantCulture);

        TorchRuntime.EnsureLoaded();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {TorchRuntime.Describe()}");
        Console.WriteLine($"input: {input}, --size {size}, --n {n}, --gamma 2.8, --batch-size 64, best of {repeat}");
        MixKernel(64, size);

        foreach (var threads in threadCounts)
        {
            var best = double.MaxValue;
            long rows = 0;
            for (var r = 0; r < repeat; r++)
            {
                var outDir = Directory.CreateTempSubdirectory("zetaprep-bench-").FullName;
                try
                {
                    var options = new GenerateOptions
                    {
                        OutputDirectory = outDir,
                        Plan = new PlanOptions(MixCount.Parse(n), GammaSpec.Parse("2.8")),
                        Size = size,
                        Threads = threads,
                        Device = DeviceChoice.Cpu,
                        Overwrite = true,
                    };
                    var clock = Stopwatch.StartNew();
                    var result = await new DatasetGenerator(new ImageFolderSource(input), new SkiaImageDecoder(new ImageLimits(options.MaxPixels))).RunAsync(options, null, CancellationToken.None);
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                    rows = result.Manifest.Totals.Rows;
                }
                finally
                {
                    Directory.Delete(outDir, recursive: true);
                }
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"generate --threads {threads}: {rows} rows in {best:F3} s = {rows / best:F0} images/s (peak RSS so far {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB)"));
        }
        return 0;
    }

    private static void MixKernel(int batch, int size)
    {
        var pixels = size * size * 3;
        var x = new byte[batch * pixels];
        new Random(1).NextBytes(x);
        var y = new byte[batch * pixels];
        var plan = MixPlan.Create(batch, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), batch));
        var w = plan.Batches[0].WeightMatrix();
        using var mixer = new TorchMixer(TorchRuntime.ResolveDevice(DeviceChoice.Cpu), batch, pixels);
        mixer.Mix(x, batch, w, batch, y);
        const int Reps = 20;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Reps; i++)
        {
            mixer.Mix(x, batch, w, batch, y);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mix kernel W[{batch},{batch}] @ X[{batch},{pixels}] uint8→uint8 on cpu: {clock.Elapsed.TotalMilliseconds / Reps:F2} ms/batch"));
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ZetaPrep.sln")))
            {
                return d.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
