using System.Globalization;

namespace ZetaPrep.Mixing;

/// <summary>γ for each output: a fixed value, or drawn uniformly from [Low, High] per output (the paper's U[γ_min, 4]).</summary>
public sealed record GammaSpec
{
    public double Low { get; }

    public double High { get; }

    public bool IsFixed => Low == High;

    /// <summary>The smallest γ accepted: shards store γ as float32, where a γ under ~1e-38 becomes 0, an original's mark.</summary>
    public const double Smallest = 1e-30;

    /// <summary>The largest γ accepted: beyond ~3.4e38 float32 holds only infinity.</summary>
    public const double Largest = 1e30;

    public GammaSpec(double low, double high)
    {
        if (!(low >= Smallest && low <= Largest && high >= Smallest && high <= Largest))
        {
            var got = low.Equals(high) ? Format(low) : $"{Format(low)}:{Format(high)}"; // Equals: NaN is NaN (--gamma NaN read "got NaN:NaN")
            throw ZetaPrepException.Usage($"--gamma: γ must be a number from {Format(Smallest)} to {Format(Largest)} (got {got}; the shards store it as float32); e.g. --gamma 2.8 or --gamma min:4.");
        }
        if (low > high)
        {
            throw ZetaPrepException.Usage($"--gamma: range {Format(low)}:{Format(high)} is reversed; write LO:HI with LO ≤ HI.");
        }
        Low = low;
        High = high;
    }

    public static GammaSpec Fixed(double gamma) => new(gamma, gamma);

    /// <summary>Parses "2.8", "1.5:4" or "min:4" (min = γ_min).</summary>
    public static GammaSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        if (parts.Length > 2 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw ZetaPrepException.Usage($"--gamma: cannot read '{text}'; give a number (2.8) or a range LO:HI (min:4, where min = γ_min ≈ 1.72865).");
        }
        var low = ParseValue(parts[0], text);
        var high = parts.Length == 2 ? ParseValue(parts[1], text) : low;
        return new GammaSpec(low, high);
    }

    /// <summary>γ for one output, from a uniform draw u ∈ [0, 1).</summary>
    public double At(double u) => IsFixed ? Low : Low + (High - Low) * u;

    /// <summary>The exact form manifest.json and the shards record (and --resume compares): "1.728647238998183:4" for min:4.</summary>
    public override string ToString() => IsFixed ? Format(Low) : $"{Format(Low)}:{Format(High)}";

    /// <summary>The form for people (closing line, dataset card): each end to 6 significant digits, as inspect prints γ: "1.72865:4".</summary>
    public string ToDisplayString() => IsFixed ? Short(Low) : $"{Short(Low)}:{Short(High)}";

    /// <summary><see cref="ToDisplayString"/> of a recorded γ (<see cref="ToString"/>'s form); text that does not parse is returned as it is.</summary>
    public static string Display(string recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        try
        {
            return Parse(recorded).ToDisplayString();
        }
        catch (ZetaPrepException)
        {
            return recorded;
        }
    }

    private static double ParseValue(string part, string text)
    {
        var p = part.Trim();
        if (p.Equals("min", StringComparison.OrdinalIgnoreCase))
        {
            return ZetaWeights.GammaMin;
        }
        if (double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
        {
            return v;
        }
        throw ZetaPrepException.Usage($"--gamma: '{p}' in '{text}' is not a number; give a number (2.8) or a range LO:HI (min:4).");
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Short(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
