using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ZetaPrep.Manifests;

namespace ZetaPrep.Training;

/// <summary>OUT/config.json: the resolved options of a training run, its classes and the shard directories it read.</summary>
public sealed record RunConfig
{
    public const string FileName = "config.json";

    public required string Architecture { get; init; }

    public required IReadOnlyList<string> Classes { get; init; }

    public required int Size { get; init; }

    public required int Epochs { get; init; }

    public required int BatchSize { get; init; }

    public required double Lr { get; init; }

    public required string Optimizer { get; init; }

    public required double WeightDecay { get; init; }

    public required double WarmupEpochs { get; init; }

    public required string Schedule { get; init; }

    public required ulong Seed { get; init; }

    public required string Device { get; init; }

    public required int Threads { get; init; }

    public required string Augment { get; init; }

    public required int ShuffleBuffer { get; init; }

    public string? Pretrained { get; init; }

    public required string Normalization { get; init; }

    public required string Validation { get; init; }

    public required int ValidationImages { get; init; }

    public required IReadOnlyList<ShardSourceInfo> Data { get; init; }

    public required long TrainRows { get; init; }

    internal static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = TrainingJsonContext.Default,
    };

    /// <summary>
    /// Reads a config.json; a malformed file is a <see cref="ZetaPrepException"/> naming it, with <paramref name="advice"/>
    /// (evaluate's way on by default; none where the caller gives its own).
    /// </summary>
    public static RunConfig Read(string path, string? advice = "pass --arch, --size explicitly or fix the file")
    {
        var then = advice is null ? "" : "; " + advice;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), JsonOptions.Info<RunConfig>())
                ?? throw new ZetaPrepException($"{path}: empty run config{then}.");
        }
        catch (JsonException e)
        {
            throw new ZetaPrepException($"{path}: not a valid zetaprep train config.json ({e.Message.TrimEnd('.')}){then}.", e);
        }
    }

    /// <summary>
    /// The settings that decide a run's weights and differ between <see langword="this"/> (recorded) and
    /// <paramref name="now"/>, as "--option differs (run X, now Y)": data, validation, architecture, size, batch size,
    /// learning rate, optimiser, weight decay, warm-up, schedule, seed, augmentation, shuffle buffer and pretrained
    /// weights. Epochs (a resume may add some), device and threads are not compared.
    /// </summary>
    public IReadOnlyList<string> ResumeDifferences(RunConfig now)
    {
        ArgumentNullException.ThrowIfNull(now);
        var differences = new List<string>();
        void Compare<T>(string option, T recorded, T current)
        {
            if (!EqualityComparer<T>.Default.Equals(recorded, current))
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{option} differs (run {recorded}, now {current})"));
            }
        }

        if (DataDiffers(Data, now.Data))
        {
            differences.Add($"--data differs (run {DescribeData(Data, now.Data)}, now {DescribeData(now.Data, Data)})");
        }

        if (!SamePath(Validation, now.Validation) || ValidationImages != now.ValidationImages)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"--val differs (run {Validation} with {ValidationImages} images, now {now.Validation} with {now.ValidationImages} images)"));
        }

        Compare("--arch", Architecture, now.Architecture);
        Compare("--size", Size, now.Size);
        Compare("--batch-size", BatchSize, now.BatchSize);
        Compare("--lr", Lr, now.Lr);
        Compare("--optimizer", Optimizer, now.Optimizer);
        Compare("--weight-decay", WeightDecay, now.WeightDecay);
        Compare("--warmup-epochs", WarmupEpochs, now.WarmupEpochs);
        Compare("the schedule", Schedule, now.Schedule);
        Compare("--seed", Seed, now.Seed);
        Compare("--augment", Augment, now.Augment);
        Compare("--shuffle-buffer", ShuffleBuffer, now.ShuffleBuffer);
        Compare("the normalisation", Normalization, now.Normalization);
        if (!(Pretrained is null ? now.Pretrained is null : now.Pretrained is not null && SamePath(Pretrained, now.Pretrained)))
        {
            differences.Add($"--pretrained differs (run {Pretrained ?? "none"}, now {now.Pretrained ?? "none"})");
        }

        return differences;
    }

    /// <summary>One shard directory is the same data as another when their manifests are byte-identical (wherever the directory now lies), or, without manifests, when it is the same directory with the same shards and rows.</summary>
    private static bool SameData(ShardSourceInfo a, ShardSourceInfo b) =>
        a.Shards == b.Shards && a.Rows == b.Rows && a.ImageSize == b.ImageSize
        && (a.ManifestSha256 is not null || b.ManifestSha256 is not null
            ? string.Equals(a.ManifestSha256, b.ManifestSha256, StringComparison.Ordinal)
            : SamePath(a.Path, b.Path));

    private static bool DataDiffers(IReadOnlyList<ShardSourceInfo> a, IReadOnlyList<ShardSourceInfo> b) =>
        a.Count != b.Count || a.Zip(b).Any(p => !SameData(p.First, p.Second));

    /// <summary>The directories, each with what identifies its content when the other side names the same directory.</summary>
    private static string DescribeData(IReadOnlyList<ShardSourceInfo> data, IReadOnlyList<ShardSourceInfo> other) =>
        string.Join(" ", data.Select((d, i) => i < other.Count && SamePath(d.Path, other[i].Path)
            ? string.Create(CultureInfo.InvariantCulture, $"{d.Path} [{d.Rows} rows in {d.Shards} shard(s), manifest SHA-256 {(d.ManifestSha256 is { } sha ? sha[..Math.Min(12, sha.Length)] + "…" : "none")}]")
            : d.Path));

    /// <summary>Whether two paths name the same place once made absolute (a trailing separator aside); false for a malformed one.</summary>
    internal static bool SamePath(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return true;
        }

        try
        {
            return string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }

    /// <summary>Writes the file whole (temp + rename): a failed write leaves the previous one.</summary>
    public void Write(string path) => ZetaPrep.Shards.AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, JsonOptions.Info<RunConfig>()) + "\n"));
}
