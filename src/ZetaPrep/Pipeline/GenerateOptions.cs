using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Planning;
using ZetaPrep.Shards;

namespace ZetaPrep.Pipeline;

/// <summary>Everything one generation run needs. Defaults: --size 224, crop, all cores, device auto, 100 MP limit.</summary>
public sealed record GenerateOptions
{
    public required string OutputDirectory { get; init; }

    public required PlanOptions Plan { get; init; }

    public int Size { get; init; } = 224;

    public ResizeMode Resize { get; init; } = ResizeMode.Crop;

    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>The most --threads a run takes: each is a dedicated thread (<see cref="BatchWorkers"/>), and no machine
    /// this tool runs on has more cores; 2^29 of them had wrapped an int and divided by zero.</summary>
    public const int MaxThreads = 4096;

    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>--decode-memory: what large PNG decodes may hold at once over all threads (<see cref="DecodeMemoryGate"/>);
    /// null: <see cref="DecodeMemoryGate.DefaultFor"/> the threads and the memory the GC may use.</summary>
    public long? DecodeMemory { get; init; }

    /// <summary>The decode budget this run uses: <see cref="DecodeMemory"/>, or the default for its threads.</summary>
    public long DecodeBudget => DecodeMemory ?? DecodeMemoryGate.DefaultFor(Threads, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>Name of the codec that decodes the inputs, as resolved from --codec (skia, turbojpeg, imagesharp); recorded in the manifest because it decides the pixels.</summary>
    /// <remarks>It names the <see cref="IImageDecoder"/> given to <see cref="DatasetGenerator"/>; <see cref="ImageCodecs"/> creates both from one choice.</remarks>
    public string Codec { get; init; } = "skia";

    /// <summary>zlib level of the output PNGs (--png-level 0..9); 1 (with the HuffmanOnly strategy) is the fastest.</summary>
    public int PngLevel { get; init; } = PngEncoder.DefaultLevel;

    /// <summary>What a bad input does: stop the run before any shard (default) or be left out of the plan.</summary>
    public OnError OnError { get; init; } = OnError.Fail;

    /// <summary>Replace an existing ZetaPrep output in <see cref="OutputDirectory"/>.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Continue an interrupted run in <see cref="OutputDirectory"/>: shards listed in its manifest whose size and SHA-256
    /// still match are kept, the rest are written; refused when the options or inputs differ. Takes precedence over
    /// <see cref="Overwrite"/>.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>Write only this worker's shards and its partial manifest; null = every shard and manifest.json.</summary>
    public WorkerSpec? Worker { get; init; }

    /// <summary>The --shard-bytes value the plan's ShardRows came from (recorded in the manifest); null when --shard-rows was used.</summary>
    public long? ShardBytes { get; init; }

    /// <summary>The command line as typed, recorded in the manifest.</summary>
    public string CommandLine { get; init; } = "";

    /// <summary>On-disk shard format (<c>--format</c>); default Parquet.</summary>
    public ShardFormat Format { get; init; } = ShardFormat.Parquet;

    /// <summary>Split name in shard file names (HuggingFace layout data/{split}-00000-of-000NN.parquet).</summary>
    public string Split { get; init; } = "train";

    /// <summary>Checks values a caller may have set out of range; throws a usage error naming the option.</summary>
    public void Validate()
    {
        if (Size is < 1 or > 8192)
        {
            throw ZetaPrepException.Usage($"--size: must be between 1 and 8192 pixels (got {Size}).");
        }
        if (Threads is < 1 or > MaxThreads)
        {
            throw ZetaPrepException.Usage($"--threads: must be an integer from 1 to {MaxThreads} (got {Threads}).");
        }
        if (MaxPixels < 1)
        {
            throw ZetaPrepException.Usage($"--max-pixels: must be ≥ 1 (got {MaxPixels}).");
        }
        if (DecodeMemory < DecodeMemoryGate.Threshold)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--decode-memory: must be at least 64MiB (got {DecodeMemory.Value:N0} bytes); decodes smaller than that are never counted."));
        }
        if (PngLevel is < 0 or > PngEncoder.MaxLevel)
        {
            throw ZetaPrepException.Usage($"--png-level: must be between 0 and {PngEncoder.MaxLevel} (got {PngLevel}).");
        }
        if (Codec is not ("skia" or "turbojpeg" or "imagesharp"))
        {
            throw ZetaPrepException.Usage($"--codec: '{Codec}' is not a resolved codec name (skia, turbojpeg or imagesharp).");
        }
        Plan.Validate();
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            throw ZetaPrepException.Usage("--out: give an output directory.");
        }
    }
}
