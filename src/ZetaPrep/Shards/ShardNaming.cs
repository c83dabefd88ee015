using System.Globalization;
using System.Text.RegularExpressions;

namespace ZetaPrep.Shards;

/// <summary>File names of shards in the HuggingFace Hub layout.</summary>
public static partial class ShardNaming
{
    /// <summary>The Hub layout's relative path <c>data/{split}-{index:00000}-of-{count:00000}.parquet</c>.</summary>
    public static string ParquetFileName(string split, int index, int count)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(split);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        if (!SplitName().IsMatch(split))
        {
            throw new ArgumentException($"Split name '{split}' must match {SplitName()} (the rule of HuggingFace datasets).", nameof(split));
        }

        return string.Create(CultureInfo.InvariantCulture, $"data/{split}-{index:D5}-of-{count:D5}.parquet");
    }

    // datasets.splits: split names are word characters, optionally dotted; '-' would break the Hub's file pattern.
    [GeneratedRegex(@"^\w+(\.\w+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SplitName();
}
