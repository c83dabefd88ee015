using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ZetaPrep.Mixing;
using ZetaPrep.Planning;
using ZetaPrep.Shards;

namespace ZetaPrep.Manifests;

/// <summary>OUT/manifest.json: what was generated, from what, how, and every shard's size and SHA-256.</summary>
public sealed partial record GenerationManifest
{
    public const string FileName = "manifest.json";

    public const int CurrentFormatVersion = 1;

    // The init accessors keep the defaults when a manifest leaves a property out: the compile-time JSON metadata
    // (ManifestJsonContext) passes the type's default for it instead of skipping it (dotnet/runtime#84484).
    public string Format { get; init => field = value ?? "zetaprep-manifest"; } = "zetaprep-manifest";

    public int FormatVersion { get; init => field = value == 0 ? CurrentFormatVersion : value; } = CurrentFormatVersion;

    public required ToolInfo Tool { get; init; }

    public required string CommandLine { get; init; }

    public required GenerationOptionsRecord Options { get; init; }

    public required string Device { get; init; }

    public required IReadOnlyList<string> Classes { get; init; }

    public required InputInfo Input { get; init; }

    /// <summary>Inputs left out with --on-error skip, with the reason; empty when none were.</summary>
    public IReadOnlyList<SkippedInput> Skipped { get; init => field = value ?? []; } = [];

    public required PlanInfo Plan { get; init; }

    public required IReadOnlyList<ShardEntry> Shards { get; init; }

    public required Totals Totals { get; init; }

    /// <summary>True once every planned shard is written; false while a run is in progress or after it stopped.</summary>
    public required bool Complete { get; init; }

    public required DateTimeOffset StartedUtc { get; init; }

    /// <summary>Seconds the run took; in a merged manifest, the longest worker's (each worker's is in <see cref="Workers"/>).</summary>
    public double WallTimeS { get; init; }

    /// <summary>Set in a worker's partial manifest (manifest.worker-I-of-W.json): which shards it owns.</summary>
    public WorkerInfo? Worker { get; init; }

    /// <summary>
    /// Set by <c>zetaprep merge</c>: the workers whose shards it joined, each with its own command line, start and wall
    /// time; <see cref="CommandLine"/> is then the command for the whole dataset (the workers' without --worker/--workers).
    /// </summary>
    public IReadOnlyList<WorkerRun>? Workers { get; init; }

    internal static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter<LabelStyle>(JsonNamingPolicy.SnakeCaseLower) },
        TypeInfoResolver = ManifestJsonContext.Default,
        // A null or missing value where the schema has one (a hand-edited or damaged manifest) is a JsonException, so
        // Read names the file, instead of a NullReferenceException later in verify, inspect or --resume.
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions.Info<GenerationManifest>());

    /// <summary>
    /// Reads a manifest; a missing or malformed file, a shard entry whose file is not a plain relative path inside the
    /// output directory, or a shard listed twice is a user error naming the file and the entry.
    /// </summary>
    public static GenerationManifest Read(string path)
    {
        GenerationManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllText(path), JsonOptions.Info<GenerationManifest>());
        }
        catch (JsonException e)
        {
            throw new ZetaPrepException($"{path}: not a valid ZetaPrep manifest ({JsonProblem(e)}); restore the manifest.json the run wrote, or regenerate the output.", e);
        }
        catch (IOException e)
        {
            throw new ZetaPrepException($"{path}: cannot read ({e.Message}).", e);
        }
        if (manifest is null)
        {
            throw new ZetaPrepException($"{path}: empty manifest; regenerate the output.");
        }
        CheckShardEntries(path, manifest.Shards);
        return manifest;
    }

    /// <summary>
    /// Whether the file at <paramref name="path"/> is a JSON object whose <c>format</c> is <c>zetaprep-manifest</c>: a
    /// manifest ZetaPrep wrote (whole or damaged since), not another tool's manifest.json (a web app's, a build's).
    /// </summary>
    public static bool HasOwnFormat(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("format", out var format)
                && format.ValueKind == JsonValueKind.String
                && format.ValueEquals("zetaprep-manifest");
        }
        catch (JsonException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"{path}: cannot read ({e.Message.TrimEnd('.')}); fix its permissions, or choose another --out.", e);
        }
    }

    /// <summary>
    /// Every reader joins a shard entry's file to the output directory: one that is absolute or climbs out (<c>..</c>)
    /// would be read from elsewhere, and loaders following the card's data_files never see it; a shard listed twice is
    /// counted twice. Shards are written as <c>dir/name</c> with '/' only, so anything else is an edited manifest.
    /// </summary>
    private static void CheckShardEntries(string path, IReadOnlyList<ShardEntry> shards)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var file = shards[i].File;
            if (NotARelativePath(file) is { } why)
            {
                throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: shards[{i}].file \"{file}\" {why}; a shard entry names a file inside the output directory (e.g. data/train-00000-of-00001.parquet): restore the manifest.json the run wrote, or regenerate the output."));
            }
            if (!seen.TryAdd(file, i))
            {
                throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: shards[{i}] lists \"{file}\" again (also shards[{seen[file]}]); each shard is listed once: restore the manifest.json the run wrote, or regenerate the output."));
            }
        }
    }

    /// <summary>Why <paramref name="file"/> is not a plain relative path with '/' separators; null when it is one.</summary>
    internal static string? NotARelativePath(string file)
    {
        if (file.Length == 0)
        {
            return "is empty";
        }
        if (file.Contains('\\', StringComparison.Ordinal))
        {
            return "has a backslash";
        }
        if (file.StartsWith('/') || Path.IsPathRooted(file))
        {
            return "is an absolute path";
        }
        foreach (var segment in file.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return segment.Length == 0 ? "has an empty path segment" : $"has a '{segment}' path segment";
            }
        }
        return file.Any(char.IsControl) ? "has a control character" : null;
    }

    /// <summary>A JsonException's message without the .NET type names it carries ("could not be converted to ZetaPrep.Manifests.…").</summary>
    private static string JsonProblem(JsonException e)
    {
        var at = e.Path is { Length: > 0 } p ? p : null;
        if (at is not null && e.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"the value at {at} has the wrong JSON type: write it as the manifest the run wrote has it (a number, a string, true or false)";
        }
        if (at is not null && e.Message.Contains("null", StringComparison.Ordinal) && !e.Message.Contains("missing required", StringComparison.Ordinal))
        {
            return $"the value at {at} is null where a value belongs";
        }
        var text = DotNetTypeName().Replace(e.Message, "");
        return at is null || text.Contains("Path:", StringComparison.Ordinal) ? text.TrimEnd('.') : $"{text.TrimEnd('.')} at {at}";
    }

    // " for type 'ZetaPrep.Manifests.GenerationManifest'", " on type '…'", " to ZetaPrep.Manifests.ShardEntry" and the like.
    [GeneratedRegex(@"\s*(?:(?:for|on|of) type '[\w.`\[\], ]+'|to (?:type )?'?ZetaPrep\.[\w.`]+'?)", RegexOptions.CultureInvariant)]
    private static partial Regex DotNetTypeName();

    /// <summary>Writes the manifest atomically: temp file, fsync, rename over the old one.</summary>
    public void WriteAtomically(string path) =>
        AtomicFile.Write(path, [.. JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions.Info<GenerationManifest>()), (byte)'\n']);
}

public sealed record ToolInfo(string Name, string Version);

/// <summary>The resolved options a run used, as recorded in the manifest (and compared on resume).</summary>
public sealed record GenerationOptionsRecord(
    string Input,
    string N,
    string Gamma,
    int BatchSize,
    int Passes,
    ulong Seed,
    int ShardRows,
    int Size,
    string Resize,
    string Format,
    string Device,
    int Threads,
    long MaxPixels,
    string OnError = "fail",
    bool KeepOriginals = false,
    long? ShardBytes = null,
    string Method = "zeta",
    double? Alpha = null,
    double LabelSmoothing = 0,
    double Prob = 1,
    double SwitchProb = 0,
    string Codec = "skia",
    int PngLevel = 1)
{
    /// <summary>
    /// "N=8, γ=2.8" for a method with ζ weights, N as the ζ outputs of <paramref name="rows"/> used it where they all mixed
    /// the same number (--n 41 over 40 inputs mixes 40); null for other methods, and where no ζ output was written
    /// (--prob 0, --switch-prob 1): N and γ then shaped nothing.
    /// </summary>
    public string? ZetaKnobs(RowComposition rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!Method.Contains("zeta", StringComparison.Ordinal) || rows.ZetaNMin is not int min)
        {
            return null;
        }
        var n = N != "batch" && min == rows.ZetaNMax ? min.ToString(CultureInfo.InvariantCulture) : N;
        return $"N={n}, γ={GammaSpec.Display(Gamma)}";
    }

    /// <summary>
    /// How the rows were mixed, for people: "N=8, γ=2.8" for ζ-mixup, "method zeta,cutmix, N=8, γ=2.8" for a method with ζ
    /// weights among others (see <see cref="ZetaKnobs"/>), "method zeta, no ζ output written" where it wrote none, else
    /// "method mixup" (N and γ mean nothing there).
    /// </summary>
    public string MixSummary(RowComposition rows) => ZetaKnobs(rows) switch
    {
        { } zeta when Method == "zeta" => zeta,
        { } zeta => $"method {Method}, {zeta}",
        null when Method.Contains("zeta", StringComparison.Ordinal) => $"method {Method}, no ζ output written",
        null => $"method {Method}",
    };

    /// <summary>
    /// The options that decide the shard bytes and differ between <see langword="this"/> (recorded) and
    /// <paramref name="now"/>, as "--option differs (manifest X, now Y)"; threads, device request and pixel limit never
    /// change bytes and are not compared. <paramref name="recordedLabel"/> and <paramref name="nowLabel"/> name the two
    /// sides where they are not a manifest and this run (merge compares two workers' manifests).
    /// </summary>
    public IReadOnlyList<string> ByteAffectingDifferences(GenerationOptionsRecord now, string recordedLabel = "manifest", string nowLabel = "now")
    {
        ArgumentNullException.ThrowIfNull(now);
        var differences = new List<string>();
        void Compare<T>(string option, T recorded, T current)
        {
            if (!EqualityComparer<T>.Default.Equals(recorded, current))
            {
                differences.Add($"{option} differs ({recordedLabel} {Text(recorded)}, {nowLabel} {Text(current)})");
            }
        }
        // A value a run leaves unset (--alpha outside mixup and CutMix) is recorded as null: say so, not an empty string.
        static string Text<T>(T value) => value is null ? "none" : string.Format(CultureInfo.InvariantCulture, "{0}", value);
        Compare("--n", N, now.N);
        Compare("--gamma", Gamma, now.Gamma);
        Compare("--batch-size", BatchSize, now.BatchSize);
        Compare("--passes", Passes, now.Passes);
        Compare("--seed", Seed, now.Seed);
        Compare("--shard-rows", ShardRows, now.ShardRows);
        Compare("--size", Size, now.Size);
        Compare("--resize", Resize, now.Resize);
        Compare("--format", Format, now.Format);
        Compare("--keep-originals", KeepOriginals, now.KeepOriginals);
        Compare("--on-error", OnError, now.OnError);
        if (OnError == "skip" && now.OnError == "skip")
        {
            // Which inputs are left out (and so every batch after the first one left out) follows the pixel limit.
            Compare("--max-pixels", MaxPixels, now.MaxPixels);
        }
        Compare("--method", Method, now.Method);
        Compare("--alpha", Alpha, now.Alpha);
        Compare("--label-smoothing", LabelSmoothing, now.LabelSmoothing);
        Compare("--prob", Prob, now.Prob);
        Compare("--switch-prob", SwitchProb, now.SwitchProb);
        // The codec decides the decoded pixels and the level the PNG bytes; manifests written before either was
        // recorded read back as skia / 1, which is what those versions used.
        Compare("--codec", Codec, now.Codec);
        Compare("--png-level", PngLevel, now.PngLevel);
        return differences;
    }

    /// <summary>The plan options these recorded options give: with the input count, the whole plan (rows, shards, every recipe).</summary>
    public PlanOptions ToPlanOptions() =>
        new(MixCount.Parse(N), GammaSpec.Parse(Gamma), BatchSize, Passes, Seed, ShardRows, KeepOriginals)
        {
            Method = MixMethodOptions.Parse(Method, Alpha, LabelSmoothing, Prob, Method == "zeta,cutmix" ? SwitchProb : null),
            ImageSize = Size,
        };
}

/// <summary>Worker <see cref="Index"/> of <see cref="Count"/>: it wrote shards Index, Index + Count, ….</summary>
public sealed record WorkerInfo(int Index, int Count);

/// <summary>One worker of a merged output: which one, the command it ran, when it started and how long it took.</summary>
public sealed record WorkerRun(int Index, int Count, string CommandLine, DateTimeOffset StartedUtc, double WallTimeS);

/// <summary>An input left out of the plan by --on-error skip, and why.</summary>
public sealed record SkippedInput(string Id, string Reason);

/// <summary>The input: where it came from, how many originals, and a SHA-256 over sorted (id, size, content hash).</summary>
public sealed record InputInfo(string Source, int Count, string Fingerprint)
{
    /// <summary>The dataset preset (e.g. isic2017), when the input was one.</summary>
    public string? Preset { get; init; }

    /// <summary>train, validation or test, for preset inputs.</summary>
    public string? Split { get; init; }

    /// <summary>The input dataset's licence (from its preset), which the synthetic images inherit.</summary>
    public string? Licence { get; init; }

    /// <summary>The downloaded archives and label files read, with size and SHA-256.</summary>
    public IReadOnlyList<InputFile>? Files { get; init; }

    /// <summary>For a `--labels` input: the label CSV's full path.</summary>
    public string? Labels { get; init; }

    /// <summary>For a `--labels` input: the column holding image ids.</summary>
    public string? IdColumn { get; init; }

    /// <summary>For a `--labels` input: the class column; null when every other column is a one-hot/probability column.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>The `--exclude` globs of a labelled or preset input; null when none were given.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>True when `--exclude-duplicates` dropped the preset's published duplicates; null otherwise.</summary>
    public bool? ExcludeDuplicates { get; init; }
}

/// <summary>One input file as downloaded: name, bytes and SHA-256.</summary>
public sealed record InputFile(string Name, long Bytes, string Sha256);

public sealed record PlanInfo(long Rows, int Batches, int Shards);

/// <summary>One written shard: path relative to OUT, rows, bytes and the SHA-256 of its bytes.</summary>
public sealed record ShardEntry(string File, long Rows, long Bytes, string Sha256);

public sealed record Totals(long Rows, long Bytes);
