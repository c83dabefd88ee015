using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ZetaPrep.Manifests;

namespace ZetaPrep.Inspection;

/// <summary>What <c>zetaprep inspect</c> shows: shards, rows, classes with their label mass, γ range and N.</summary>
/// <param name="N">--n as recorded, only where rows carry ζ weights (as the text shows it); null for mixup, CutMix and originals, which it does not shape.</param>
public sealed record DatasetSummary(
    string Format,
    IReadOnlyList<ShardSummary> Shards,
    long TotalRows,
    long TotalBytes,
    IReadOnlyList<ClassSummary> Classes,
    float GammaMin,
    float GammaMax,
    string? N,
    int SourcesMin,
    int SourcesMax,
    int Size)
{
    /// <summary>Whether the manifest records a finished run; an interrupted one lists fewer shards than <see cref="PlannedShards"/>.</summary>
    public bool Complete { get; init; } = true;

    /// <summary>Shards in the run's plan.</summary>
    public int PlannedShards { get; init; }

    /// <summary>What a reader of this summary must know first, one line each: an incomplete run, class names that differ between manifest and shards.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The --method recorded in the manifest (zeta, mixup, cutmix, cutmix+zeta, none, zeta,cutmix).</summary>
    public string Method { get; init; } = "zeta";

    /// <summary>Rows by how they were made, as the rows' method column says ("original" for resized originals), in first-seen order.</summary>
    public IReadOnlyList<MethodRows> RowsByMethod { get; init; } = [];

    /// <summary>Fewest sources of a ζ-mixed row: N as used (capped at the inputs of the row's batch); null without ζ rows.</summary>
    public int? ZetaSourcesMin { get; init; }

    /// <summary>Most sources of a ζ-mixed row; null without ζ rows.</summary>
    public int? ZetaSourcesMax { get; init; }

    /// <summary>γ range of the rows that carry a ζ exponent (ζ and CutMix-on-ζ rows); null without such rows.</summary>
    public float? ZetaGammaMin { get; init; }

    /// <summary>Upper end of <see cref="ZetaGammaMin"/>'s range.</summary>
    public float? ZetaGammaMax { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // γ is Infinity where no row carries one (e.g. mixup): written "Infinity", as metrics.jsonl writes NaN and ±Infinity.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = ManifestJsonContext.Default,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions.Info<DatasetSummary>());

    /// <summary>A human-readable report with a bar per class (share of the total soft-label mass).</summary>
    public string ToText()
    {
        var s = new StringBuilder();
        void L(FormattableString line) => s.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var warning in Warnings)
        {
            L($"warning: {warning}");
        }
        var shards = Complete ? string.Create(CultureInfo.InvariantCulture, $"{Shards.Count} shard(s)") : string.Create(CultureInfo.InvariantCulture, $"{Shards.Count} of {PlannedShards} shard(s) (incomplete)");
        L($"format {Format}, {shards}, {TotalRows} rows, {TotalBytes} bytes, {Size}×{Size} images");
        L($"method {Method}: {(RowsByMethod.Count == 0 ? "no rows" : string.Join(", ", RowsByMethod.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Rows} {x.Method}"))))}");
        if (ZetaGammaMin is { } gMin && ZetaGammaMax is { } gMax)
        {
            // N only where ζ weights were used, and as used: an output mixes at most the inputs of its batch.
            var capped = ZetaSourcesMax is int most && int.TryParse(N, NumberStyles.Integer, CultureInfo.InvariantCulture, out var asked) && most < asked;
            var sources = ZetaSourcesMin is int zMin && ZetaSourcesMax is int zMax
                ? string.Create(CultureInfo.InvariantCulture, $" (sources per ζ row {zMin}..{zMax}{(capped ? ", capped at the inputs of the row's batch" : "")})")
                : "";
            L($"N = {N}{sources}, γ in [{gMin:G6}, {gMax:G6}]");
        }
        else if (TotalRows > 0)
        {
            L($"sources per row {SourcesMin}..{SourcesMax}");
        }
        L($"");
        L($"shards:");
        var width = Shards.Count == 0 ? 4 : Shards.Max(x => x.File.Length);
        foreach (var shard in Shards)
        {
            L($"  {shard.File.PadRight(width)}  {shard.Rows,8} rows  {shard.Bytes,12} bytes");
        }
        L($"");
        L($"classes (label mass = Σ soft label over rows; dominant = rows whose dominant sample has the class):");
        var nameWidth = Classes.Count == 0 ? 4 : Classes.Max(c => c.Name.Length);
        foreach (var c in Classes)
        {
            var share = TotalRows == 0 ? 0 : c.LabelMass / TotalRows;
            var bar = new string('#', (int)Math.Round(share * 40));
            L($"  {c.Index,3} {c.Name.PadRight(nameWidth)}  mass {c.LabelMass,10:F3} ({share,6:P1})  dominant {c.DominantRows,7}  {bar}");
        }
        return s.ToString();
    }
}

/// <summary>Rows made one way: a method name (zeta, mixup, cutmix, cutmix+zeta) or "original".</summary>
public sealed record MethodRows(string Method, long Rows);

/// <summary>One shard in the summary.</summary>
public sealed record ShardSummary(string File, long Rows, long Bytes);

/// <summary>One class: Σ of its soft-label entries over all rows, and the count of rows whose dominant class it is.</summary>
public sealed record ClassSummary(int Index, string Name, double LabelMass, long DominantRows);
