using System.Globalization;

namespace ZetaPrep.Mixing;

/// <summary>How many samples each output mixes: a fixed N ≥ 2, or the whole batch (the authors' B×B formulation).</summary>
public sealed record MixCount
{
    /// <summary>N, or null for "batch".</summary>
    public int? N { get; }

    public bool IsWholeBatch => N is null;

    private MixCount(int? n) => N = n;

    public static MixCount WholeBatch { get; } = new((int?)null);

    public static MixCount Of(int n) => n >= 2
        ? new MixCount(n)
        : throw ZetaPrepException.Usage($"--n: N must be ≥ 2 (got {n}); ζ-mixup mixes at least two samples.");

    /// <summary>Parses an integer ≥ 2 or "batch".</summary>
    public static MixCount Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("batch", StringComparison.OrdinalIgnoreCase))
        {
            return WholeBatch;
        }
        if (int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            return Of(n);
        }
        throw ZetaPrepException.Usage($"--n: '{text}' is not an integer ≥ 2 or 'batch'.");
    }

    /// <summary>The N used for a batch of <paramref name="batchItems"/> items (capped at the batch's size).</summary>
    public int For(int batchItems) => N is int n ? Math.Min(n, batchItems) : batchItems;

    public override string ToString() => N?.ToString(CultureInfo.InvariantCulture) ?? "batch";
}
