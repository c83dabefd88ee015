using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using ZetaPrep.Bench.Kernels;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;
using ZetaPrep.Planning;

namespace ZetaPrep.Bench;

/// <summary>
/// Measurements for `make bench` (bench/run.sh drives it and writes docs/BENCHMARKS.md):
///   floor   --in DIR --size S --threads T : the codec floor — decode+resize every input once and PNG-encode every
///                                           output once (the run's ζ-mixed images: N=8, γ=2.8, batches of 32, mixed
///                                           before the clock starts), spread over T threads, inputs preloaded (no I/O,
///                                           no mix).
///   budget  --in DIR --size S             : on one thread, ms per image of the floor's work and of each cost a first
///                                           run adds by design (inputs read twice, hashed and checked; the mix; each
///                                           output hashed and written), and the end-to-end/floor ratio they allow.
///   kernels --size S                      : per-call medians of the W@X mix, one decode+resize, one PNG encode.
///   gpu [--size S] [--kernels K1,K2]      : CUDA kernel bytes vs the CPU kernel, then its speed against the device's
///                                           copy bandwidth (GpuBench; bench/gpu/device_check.sh runs it on a GPU machine);
///                                           --kernels limits the kernels launched by name (Mix's own is always checked).
///   rowgroups [--size S] [--rows R] [--groups G] : the writer's cost per row group (one Parquet shard of G groups of R
///                                           rows of SIZE² PNGs), ms per group and µs per row.
///   ptx [--quantized|--pairs|--resident|--tensor]  : prints the float kernels' PTX module, or an integer kernel's (for ptxas -v
///                                           / cuobjdump on a machine with CUDA).
/// Each prints one JSON line.
///   bdn [BenchmarkSwitcher args]          : the BenchmarkDotNet suites in Kernels/ (`make bench-kernels`), e.g.
///                                           bdn --filter '*Codec*' ; photos from $ZETAPREP_BENCH_PHOTOS.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var mode = args.Length > 0 ? args[0] : "kernels";
        if (mode == "bdn")
        {
            var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], KernelConfig.Create());
            return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
        }

        var size = int.Parse(Arg(args, "--size") ?? "224", CultureInfo.InvariantCulture);
        switch (mode)
        {
            case "floor":
                Floor(Arg(args, "--in") ?? throw new ArgumentException("floor needs --in DIR"), size,
                    int.Parse(Arg(args, "--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                    ImageCodecs.Parse(Arg(args, "--codec") ?? "auto"));
                return 0;
            case "budget":
                Budget(Arg(args, "--in") ?? throw new ArgumentException("budget needs --in DIR"), size, ImageCodecs.Parse(Arg(args, "--codec") ?? "auto"));
                return 0;
            case "kernels":
                Kernels(size, Arg(args, "--in"), ImageCodecs.Parse(Arg(args, "--codec") ?? "auto"));
                return 0;
            case "gpu":
                return GpuBench.Run(size, Arg(args, "--kernels")?.Split(',') ?? [.. GpuBench.AllKernels],
                    Arg(args, "--only-batch") is { } only ? int.Parse(only, CultureInfo.InvariantCulture) : null);
            case "rowgroups":
                RowGroups(size, int.Parse(Arg(args, "--rows") ?? "64", CultureInfo.InvariantCulture), int.Parse(Arg(args, "--groups") ?? "1000", CultureInfo.InvariantCulture));
                return 0;
            case "ptx":
                Console.Write(args.Contains("--quantized") ? QuantizedKernelPtx.Source
                    : args.Contains("--pairs") ? PairKernelPtx.Source
                    : args.Contains("--resident") ? ResidentKernelPtx.Source
                    : args.Contains("--tensor") ? TensorKernelPtx.Source : MixKernelPtx.Source);
                return 0;
            default:
                Console.Error.WriteLine("usage: ZetaPrep.Bench floor --in DIR [--size S] [--threads T] [--codec C] | budget --in DIR [--size S] [--codec C] | kernels [--size S] [--in DIR] [--codec C] | gpu [--size S] [--kernels K1,K2] [--only-batch B] | ptx [--quantized|--pairs|--resident|--tensor] | bdn [BenchmarkSwitcher args]");
                return 2;
        }
    }

    private static void Floor(string input, int size, int threads, CodecChoice codec)
    {
        var files = ImagePaths(input).Select(File.ReadAllBytes).ToArray();
        var decoder = ImageCodecs.Create(codec, new ImageLimits());
        var pixels = size * size * 3;
        var outputs = MixedOutputs(files, decoder, size);
        void Run() => Parallel.For(0, files.Length, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => new byte[pixels],
            (i, _, rgb) =>
            {
                decoder.DecodeResized(files[i], "bench", size, ResizeMode.Crop, rgb);
                PngEncoder.Encode(outputs.AsSpan(i * pixels, pixels), size, size);
                return rgb;
            },
            _ => { });
        Run(); // warm-up
        var best = double.MaxValue;
        for (var r = 0; r < 3; r++)
        {
            var clock = Stopwatch.StartNew();
            Run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"mode\":\"floor\",\"codec\":\"{ImageCodecs.Name(ImageCodecs.Resolve(codec))}\",\"images\":{files.Length},\"threads\":{threads},\"size\":{size},\"seconds\":{best:F3},\"images_per_s\":{files.Length / best:F1}}}"));
    }

    /// <summary>
    /// What a first run must do beyond the floor's decode, resize and encode, each timed alone on one thread over every
    /// input (per image, median of 5 rounds; each round times every part in turn, so drift hits all alike):
    /// the validation pass reads, hashes (SHA-256) and checks every input (header, limits, structure); the batch reads
    /// it again to decode it; the mix; and each output PNG is hashed (SHA-256, for the manifest) and written to a file. Times are the thread's CPU
    /// time (the disk's own time is not CPU the pipeline waits for). Parquet framing, queues and threads are left out: the ratio printed is the most target 2 can reach with these
    /// guarantees kept, not a measurement of the pipeline.
    /// </summary>
    /// <summary>
    /// rowgroups: the writer thread's cost per batch — one Parquet shard of <paramref name="groups"/> row groups of
    /// <paramref name="rows"/> rows (PNG bytes of a SIZE² image, 10-class soft labels, N = 8 sources), written to a
    /// temporary folder; ms per row group and µs per row, median of 5.
    /// </summary>
    private static void RowGroups(int size, int rows, int groups)
    {
        var rgb = new byte[size * size * 3];
        new Random(1).NextBytes(rgb);
        var png = PngEncoder.Encode(rgb, size, size);
        var weights = new float[] { 0.87f, 0.06f, 0.02f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f };
        var batch = Enumerable.Range(0, rows).Select(i => new ZetaPrep.Shards.ShardRow(png, $"{i:D6}.png", [0.87f, 0.13f, 0, 0, 0, 0, 0, 0, 0, 0], i % 10,
            Enumerable.Range(0, 8).Select(k => $"r{k}-{(i * 8) + k:D5}.png").ToArray(), weights, 2.8f, Method: "zeta")).ToArray();
        var schema = new ZetaPrep.Shards.ShardSchema([.. Enumerable.Range(0, 10).Select(c => $"class{c}")], "{\"bench\":true}");
        var dir = Directory.CreateTempSubdirectory("zetaprep-rowgroups-").FullName;
        try
        {
            var times = new List<double>();
            for (var round = 0; round < 6; round++)
            {
                var path = Path.Combine(dir, "train-00000-of-00001.parquet");
                var clock = Stopwatch.StartNew();
                var writer = ZetaPrep.Shards.ParquetShardWriter.CreateAsync(path, schema, CancellationToken.None).GetAwaiter().GetResult();
                for (var g = 0; g < groups; g++)
                {
                    writer.WriteRowGroupAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
                }
                writer.CompleteAsync(CancellationToken.None).GetAwaiter().GetResult();
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
                if (round > 0)
                {
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            times.Sort();
            var ms = times[times.Count / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"mode\":\"rowgroups\",\"size\":{size},\"png_bytes\":{png.Length},\"rows\":{rows},\"groups\":{groups},\"ms_per_group\":{ms / groups:F4},\"us_per_row\":{ms * 1000 / groups / rows:F2}}}"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static unsafe void Budget(string input, int size, CodecChoice codec)
    {
        var paths = ImagePaths(input);
        var files = paths.Select(File.ReadAllBytes).ToArray();
        var decoder = ImageCodecs.Create(codec, new ImageLimits());
        var pixels = size * size * 3;
        var outputs = MixedOutputs(files, decoder, size);
        var pngs = Enumerable.Range(0, files.Length).Select(i => PngEncoder.Encode(outputs.AsSpan(i * pixels, pixels), size, size)).ToArray();
        var plan = MixPlan.Create(files.Length, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), 32));
        var mixer = new SparseCpuMixer(32, pixels);
        var batchIn = new byte[32 * pixels];
        var batchOut = new byte[32 * pixels];
        var rgb = new byte[pixels];
        var hash = new byte[32];
        var sink = Path.Combine(Path.GetTempPath(), $"zetaprep-budget-{Environment.ProcessId}.bin");
        var parts = new (string Name, Action Run)[]
        {
            ("floor", () =>
            {
                for (var i = 0; i < files.Length; i++)
                {
                    decoder.DecodeResized(files[i], "bench", size, ResizeMode.Crop, rgb);
                    PngEncoder.Encode(outputs.AsSpan(i * pixels, pixels), size, size);
                }
            }),
            ("read", () =>
            {
                // With the size, as the sources read (the listing's size: libc's open/read/close where it is given).
                for (var i = 0; i < paths.Length; i++)
                {
                    using var bytes = ZetaPrep.Sources.PooledBytes.ReadFile(paths[i], files[i].Length);
                }
            }),
            ("input_sha256", () =>
            {
                foreach (var file in files)
                {
                    System.Security.Cryptography.SHA256.HashData(file, hash);
                }
            }),
            ("checks", () =>
            {
                foreach (var file in files)
                {
                    decoder.ReadHeader(file, "bench");
                    // As the pass under --on-error fail: a JPEG's scans are left to the decoder that refuses lost data.
                    ImageIntegrity.Check(file, "bench", decodeJpegScans: !decoder.DetectsJpegDataLoss(file));
                }
            }),
            ("mix", () =>
            {
                foreach (var batch in plan.Batches)
                {
                    var m = batch.Inputs.Length;
                    mixer.Mix(batchIn.AsSpan(0, m * pixels), m, batch.PixelWeightMatrix(), m, batchOut.AsSpan(0, m * pixels));
                }
            }),
            ("output_sha256", () =>
            {
                using var hasher = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                foreach (var png in pngs)
                {
                    hasher.AppendData(png);
                }
                hasher.GetHashAndReset(hash);
            }),
            ("output_write", () =>
            {
                using var file = new FileStream(sink, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
                foreach (var png in pngs)
                {
                    file.Write(png);
                }
                file.Flush(flushToDisk: true);
            }),
        };
        var perImage = parts.ToDictionary(p => p.Name, _ => new List<double>());
        try
        {
            // The kernel accounts CPU time in scheduler ticks (4 ms here): each part repeats until a round of it takes ~0.5 s.
            var reps = parts.ToDictionary(p => p.Name, p =>
            {
                var t = Stopwatch.GetTimestamp();
                p.Run(); // warm-up
                return (int)Math.Clamp(Math.Ceiling(500 / Math.Max(Stopwatch.GetElapsedTime(t).TotalMilliseconds, 1)), 1, 50);
            });
            for (var round = 0; round < 5; round++)
            {
                foreach (var part in parts)
                {
                    var t = ThreadCpuMs();
                    for (var r = 0; r < reps[part.Name]; r++)
                    {
                        part.Run();
                    }
                    perImage[part.Name].Add((ThreadCpuMs() - t) / (files.Length * reps[part.Name]));
                }
            }
        }
        finally
        {
            File.Delete(sink);
        }
        var ms = perImage.ToDictionary(p => p.Key, p => p.Value.Order().ElementAt(p.Value.Count / 2));
        // A first run reads every input twice: in the validation pass and for its batch.
        var overhead = (2 * ms["read"]) + ms["input_sha256"] + ms["checks"] + ms["mix"] + ms["output_sha256"] + ms["output_write"];
        var fields = string.Join(",", ms.Select(p => string.Create(CultureInfo.InvariantCulture, $"\"{p.Key}_ms\":{p.Value:F3}")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"mode\":\"budget\",\"images\":{files.Length},\"size\":{size},{fields},\"overhead_ms\":{overhead:F3},\"ceiling\":{ms["floor"] / (ms["floor"] + overhead):F3}}}"));
    }

    /// <summary>CPU time of the calling thread (user + system), from getrusage(RUSAGE_THREAD): waits for the disk are not CPU.</summary>
    private static unsafe double ThreadCpuMs()
    {
        var usage = stackalloc long[18]; // struct rusage: ru_utime and ru_stime (timeval: seconds, microseconds) first
        if (GetRusage(1, usage) != 0)
        {
            throw new InvalidOperationException("getrusage(RUSAGE_THREAD) failed");
        }
        return ((usage[0] + usage[2]) * 1e3) + ((usage[1] + usage[3]) / 1e3);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern unsafe int GetRusage(int who, long* usage);

    /// <summary>
    /// The images the end-to-end run writes (`generate --n 8 --gamma 2.8 --batch-size 32`, seed 0): the floor encodes
    /// these, not the decoded originals, because a blend of eight photos carries more detail and encodes slower.
    /// </summary>
    private static byte[] MixedOutputs(byte[][] files, IImageDecoder decoder, int size)
    {
        var pixels = size * size * 3;
        var plan = MixPlan.Create(files.Length, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), 32));
        var outputs = new byte[(long)files.Length * pixels];
        var mixer = new SparseCpuMixer(32, pixels);
        var x = new byte[32 * pixels];
        var row = 0;
        foreach (var batch in plan.Batches)
        {
            var m = batch.Inputs.Length;
            for (var i = 0; i < m; i++)
            {
                decoder.DecodeResized(files[batch.Inputs[i]], "bench", size, ResizeMode.Crop, x.AsSpan(i * pixels, pixels));
            }
            mixer.Mix(x.AsSpan(0, m * pixels), m, batch.PixelWeightMatrix(), m, outputs.AsSpan(row * pixels, batch.Outputs.Length * pixels));
            row += batch.Outputs.Length;
        }
        return outputs;
    }

    private static void Kernels(int size, string? input, CodecChoice codec)
    {
        var pixels = size * size * 3;
        // Before libtorch runs anything: its OpenMP threads keep spinning after a parallel region and would slow this.
        var decode = double.NaN;
        if (input is not null)
        {
            var file = File.ReadAllBytes(Directory.EnumerateFiles(input, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First());
            var decoder = ImageCodecs.Create(codec, new ImageLimits());
            var rgb = new byte[pixels];
            decode = Median(50, () => decoder.DecodeResized(file, "bench", size, ResizeMode.Crop, rgb));
        }
        TorchRuntime.EnsureLoaded();
        const int Batch = 64;
        var x = new byte[Batch * pixels];
        new Random(1).NextBytes(x);
        var y = new byte[Batch * pixels];
        var plan = MixPlan.Create(Batch, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), Batch));
        var w = plan.Batches[0].PixelWeightMatrix();
        using var mixer = new TorchMixer(TorchRuntime.ResolveDevice(DeviceChoice.Cpu), Batch, pixels);
        var mix = Median(20, () => mixer.Mix(x, Batch, w, Batch, y));
        var sparse = new SparseCpuMixer(Batch, pixels);
        var sparseMix = Median(20, () => sparse.Mix(x, Batch, w, Batch, y));
        var encode = Median(50, () => PngEncoder.Encode(y.AsSpan(0, pixels), size, size));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"mode\":\"kernels\",\"size\":{size},\"mix_ms_per_batch64\":{mix:F2},\"sparse_cpu_mix_ms_per_batch64\":{sparseMix:F2},\"png_encode_ms\":{encode:F3},\"codec\":\"{ImageCodecs.Name(ImageCodecs.Resolve(codec))}\",\"jpeg_decode_resize_ms\":{(double.IsNaN(decode) ? "null" : decode.ToString("F3", CultureInfo.InvariantCulture))},\"torch_threads\":{TorchSharp.torch.get_num_threads()}}}"));
    }

    private static readonly HashSet<string> ImageFolderExtensions = [".jpg", ".jpeg", ".png"];

    /// <summary>The JPEG and PNG files under <paramref name="input"/>, in ordinal order.</summary>
    private static string[] ImagePaths(string input) => Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
        .Where(f => ImageFolderExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
        .Order(StringComparer.Ordinal).ToArray();

    private static double Median(int reps, Action action)
    {
        action();
        var times = new double[reps];
        for (var i = 0; i < reps; i++)
        {
            var t = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
