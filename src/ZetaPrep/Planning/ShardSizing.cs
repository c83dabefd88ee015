using System.Globalization;

namespace ZetaPrep.Planning;

/// <summary>
/// <c>--shard-bytes</c>: an upper bound on the raw RGB pixel bytes (S×S×3 per row) of a shard, turned into rows per
/// shard from the output size alone, so shard boundaries stay a pure function of the plan (no pixels).
/// </summary>
public static class ShardSizing
{
    /// <summary>Raw pixel bytes of one S×S RGB row.</summary>
    public static long RowBytes(int size) => 3L * size * size;

    /// <summary>Rows per shard whose raw pixels fit in <paramref name="shardBytes"/> (at least 1).</summary>
    public static int RowsFor(long shardBytes, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return (int)Math.Clamp(shardBytes / RowBytes(size), 1, int.MaxValue);
    }

    /// <summary>Parses SIZE: an integer byte count with an optional suffix B, KB/MB/GB/TB (10³ⁿ) or KiB/MiB/GiB/TiB (2¹⁰ⁿ), case-insensitive.</summary>
    public static long ParseBytes(string text) => ParseBytes(text, "--shard-bytes");

    /// <summary>As <see cref="ParseBytes(string)"/>, naming <paramref name="option"/> in the error; a size under one byte is refused.</summary>
    public static long ParseBytes(string text, string option) => ParseBytes(text, option, 1);

    /// <summary>
    /// As <see cref="ParseBytes(string, string)"/>, refusing a size under <paramref name="min"/> bytes (0: the caller checks
    /// its own minimum, with its own message); a fraction of a byte is dropped.
    /// </summary>
    public static long ParseBytes(string text, string option, long min)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        var s = text.Trim();
        var digits = 0;
        while (digits < s.Length && (char.IsAsciiDigit(s[digits]) || s[digits] == '.'))
        {
            digits++;
        }
        var unit = s[digits..].Trim().ToUpperInvariant();
        long multiplier = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" => 1000,
            "M" or "MB" => 1000_000,
            "G" or "GB" => 1000_000_000,
            "T" or "TB" => 1000_000_000_000,
            "KIB" => 1L << 10,
            "MIB" => 1L << 20,
            "GIB" => 1L << 30,
            "TIB" => 1L << 40,
            _ => 0,
        };
        if (multiplier == 0 || digits == 0
            || !decimal.TryParse(s[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            throw ZetaPrepException.Usage($"{option}: '{text}' is not a size; give e.g. 256MB, 1GiB or 500000 (suffixes B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).");
        }
        // Divided, not multiplied: 9e18 TB would overflow decimal itself.
        if (number > long.MaxValue / (decimal)multiplier)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"{option}: must be a size of at most {long.MaxValue} bytes (got '{text}'); give e.g. 256MB, 1GiB or 500000."));
        }
        var bytes = (long)(number * multiplier);
        if (bytes < min)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"{option}: must be a size of at least {min} byte{(min == 1 ? "" : "s")} (got '{text}'); give e.g. 256MB, 1GiB or 500000."));
        }
        return bytes;
    }
}
