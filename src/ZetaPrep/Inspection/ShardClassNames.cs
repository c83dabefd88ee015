using System.Globalization;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>
/// The class names a dataset's shards record themselves (a Parquet shard's footer: the HuggingFace ClassLabel that
/// loaders and <c>zetaprep train</c> read), to hold against manifest.json's <c>classes</c>, which they never read.
/// </summary>
/// <param name="Names">One list of class names.</param>
/// <param name="Files">The shards (relative paths, manifest order) that record it.</param>
public sealed record ShardClassNames(IReadOnlyList<string> Names, IReadOnlyList<string> Files)
{
    /// <summary>
    /// Each distinct list of class names the readable shards of <paramref name="dataset"/> record, in the order first met;
    /// empty for formats whose shards record none (WebDataset and folder shards hold the label vectors only). A missing or
    /// unreadable shard is left out: the caller reports it where it reads the shard.
    /// </summary>
    public static async Task<IReadOnlyList<ShardClassNames>> ReadAsync(GeneratedDataset dataset, CancellationToken ct) =>
        Group(await ReadFootersAsync(dataset, ct).ConfigureAwait(false));

    /// <summary>
    /// The class names to show for <paramref name="dataset"/>: those its Parquet shards record when they agree (loaders
    /// and train read those, not manifest.json's), else the manifest's; and a line for each list of shard names that
    /// differs from the manifest's, ending in <paramref name="usedNote"/> when the shards' names are the ones shown.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Classes, List<string> Mismatches)> ShownAsync(GeneratedDataset dataset, string usedNote, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var classes = dataset.Manifest.Classes;
        var shardNames = await ReadAsync(dataset, ct).ConfigureAwait(false);
        var mismatches = shardNames.Where(n => !n.Match(classes))
            .Select(n => n.MismatchWith(classes) + (shardNames.Count == 1 ? " " + usedNote : ""))
            .ToList();
        return (shardNames.Count == 1 ? shardNames[0].Names : classes, mismatches);
    }

    /// <summary>
    /// The footer metadata of each Parquet shard of <paramref name="dataset"/> that can be read, in manifest order (none for
    /// other formats); a missing or unreadable shard is left out, as it is reported where the shard is read.
    /// </summary>
    internal static async Task<List<(string File, ShardFileMetadata Meta)>> ReadFootersAsync(GeneratedDataset dataset, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var footers = new List<(string, ShardFileMetadata)>();
        if (dataset.Format.Kind != ShardFormat.Parquet)
        {
            return footers;
        }
        foreach (var shard in dataset.Manifest.Shards)
        {
            try
            {
                footers.Add((shard.File, await ParquetShardReader.ReadMetadataAsync(Path.Combine(dataset.Directory, shard.File), ct).ConfigureAwait(false)));
            }
            catch (ZetaPrepException)
            {
            }
        }
        return footers;
    }

    /// <summary>The shards grouped by the class names their footers record.</summary>
    internal static IReadOnlyList<ShardClassNames> Group(IEnumerable<(string File, ShardFileMetadata Meta)> footers)
    {
        var groups = new List<(IReadOnlyList<string> Names, List<string> Files)>();
        foreach (var (file, meta) in footers)
        {
            var at = groups.FindIndex(g => g.Names.SequenceEqual(meta.ClassNames, StringComparer.Ordinal));
            if (at < 0)
            {
                groups.Add((meta.ClassNames, [file]));
            }
            else
            {
                groups[at].Files.Add(file);
            }
        }
        return [.. groups.Select(g => new ShardClassNames(g.Names, g.Files))];
    }

    /// <summary>Whether these names are <paramref name="classes"/>, in order and spelling.</summary>
    public bool Match(IReadOnlyList<string> classes) => Names.SequenceEqual(classes, StringComparer.Ordinal);

    /// <summary>One line naming both lists and the shards, for when they differ from manifest.json's <paramref name="classes"/>.</summary>
    public string MismatchWith(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var more = Files.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {Files.Count - 1} more shard(s))") : "";
        return $"{GenerationManifest.FileName}: classes [{string.Join(", ", classes)}] differ from the class names [{string.Join(", ", Names)}] "
            + $"that {Files[0]}{more} records, which loaders and 'zetaprep train' use; {GenerationManifest.FileName} or the shards were changed "
            + $"after generation: restore the manifest.json the run wrote, or generate the output again.";
    }
}
