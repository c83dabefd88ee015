using System.Text.RegularExpressions;

namespace ZetaPrep.Shards;

/// <summary>The registered shard formats, by <see cref="ShardFormat"/> or by <c>--format</c> name.</summary>
public static partial class ShardFormats
{
    private static readonly IShardFormat[] All = [new ParquetShardFormat(), new WebDatasetShardFormat(), new FolderShardFormat()];

    /// <summary>The <c>--format</c> names, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(f => f.Name).ToArray();

    public static IShardFormat Get(ShardFormat kind) => All.Single(f => f.Kind == kind);

    /// <summary>The format named <paramref name="name"/> (as recorded in a manifest); an unknown name is a user error.</summary>
    public static IShardFormat Get(string name) =>
        All.SingleOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw ZetaPrepException.Usage($"--format {name}: unknown format; use one of {string.Join(", ", Names)}.");

    /// <summary>
    /// The shard files of <paramref name="kind"/> on disk in <paramref name="outputDirectory"/> (hidden ones, e.g. a writer's
    /// temp file, left out), sorted: Parquet's under <c>data/</c> (or, without one, at the top), WebDataset's
    /// <c>shard-*.tar</c> at the top, the folder format's label parts under <c>labels/</c>.
    /// </summary>
    public static List<string> FilesOnDisk(string outputDirectory, ShardFormat kind)
    {
        var data = Path.Combine(outputDirectory, "data");
        var (dir, pattern) = kind switch
        {
            ShardFormat.WebDataset => (outputDirectory, "shard-*.tar"),
            ShardFormat.Folder => (Path.Combine(outputDirectory, "labels"), "*.parquet"),
            _ => (Directory.Exists(data) ? data : outputDirectory, "*.parquet"),
        };
        return !Directory.Exists(dir) ? [] : Directory.EnumerateFiles(dir, pattern)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The format of the output in <paramref name="directory"/> when it is one that needs its manifest.json to be read and
    /// the manifest is not there: folder (label parts under <c>labels/</c>, and no Parquet shards but its labels.parquet)
    /// or WebDataset (<c>shard-*.tar</c>, and no Parquet shards); null otherwise. Their shards hold label vectors but
    /// not the class names, nor the format.
    /// </summary>
    public static ShardFormat? WithoutItsManifest(string directory)
    {
        var parquet = FilesOnDisk(directory, ShardFormat.Parquet);
        if (!Directory.Exists(Path.Combine(directory, "data")) && FilesOnDisk(directory, ShardFormat.Folder).Count > 0
            && parquet.All(f => Path.GetFileName(f) == FolderShardFormat.LabelsFileName))
        {
            return ShardFormat.Folder;
        }
        return parquet.Count == 0 && FilesOnDisk(directory, ShardFormat.WebDataset).Count > 0 ? ShardFormat.WebDataset : null;
    }

    /// <summary>
    /// Whether <paramref name="relativePath"/> is, by its exact name, a file some format writes: a Parquet shard
    /// (<c>data/{split}-00000-of-00003.parquet</c>) or a folder-format label part (<c>labels/…</c>), a WebDataset tar
    /// (<c>shard-000000.tar</c>), a folder-format image (<c>images/00000042.png</c>) or an index file
    /// (<c>shardindex.json</c>, <c>labels.parquet</c>). Anything else under <c>data/</c> or <c>images/</c> (a user's
    /// notes, a logo) is not ZetaPrep's: --overwrite leaves it where it is.
    /// </summary>
    public static bool IsOutputFile(string relativePath) => IsOutputFile(relativePath, out _);

    /// <inheritdoc cref="IsOutputFile(string)"/>
    /// <param name="relativePath">Relative to the output directory, with '/' separators.</param>
    /// <param name="split">The split a Parquet shard or label part's name holds; null for other files.</param>
    public static bool IsOutputFile(string relativePath, out string? split)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        split = null;
        if (All.Any(f => f.IndexFiles.Contains(relativePath)))
        {
            return true;
        }
        var match = OutputFileName().Match(relativePath);
        if (!match.Success)
        {
            return false;
        }
        split = match.Groups["split"].Success ? match.Groups["split"].Value : null;
        return true;
    }

    [GeneratedRegex(@"^(?:(?:data|labels)/(?<split>\w+(?:\.\w+)*)-[0-9]{5,}-of-[0-9]{5,}\.parquet|shard-[0-9]{6,}\.tar|images/[0-9]{8,}\.png)\z", RegexOptions.CultureInvariant)]
    private static partial Regex OutputFileName();

    /// <summary>
    /// Deletes every format's shard and index files in <paramref name="outputDirectory"/> (for <c>--overwrite</c>), by
    /// their exact names, those of Parquet shards and label parts only for <paramref name="splits"/> (another split's,
    /// put beside them for the Hub's layout, stay), and the folders that held them once empty (a folder-format output
    /// replaced by Parquet left images/ and labels/ behind); other files stay, and so do the folders holding them.
    /// </summary>
    public static void DeleteOutputs(string outputDirectory, IReadOnlySet<string> splits)
    {
        ArgumentNullException.ThrowIfNull(splits);
        var emptied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(outputDirectory, "*", SearchOption.AllDirectories).ToList())
        {
            var relative = Path.GetRelativePath(outputDirectory, file).Replace('\\', '/');
            if (IsOutputFile(relative, out var split) && (split is null || splits.Contains(split)))
            {
                File.Delete(file);
                emptied.Add(Path.GetDirectoryName(file)!);
            }
        }
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        foreach (var dir in emptied.OrderByDescending(d => d.Length))
        {
            for (var d = Path.GetFullPath(dir); d.Length > root.Length && d.StartsWith(root, StringComparison.Ordinal) && Directory.Exists(d) && !Directory.EnumerateFileSystemEntries(d).Any(); d = Path.GetDirectoryName(d)!)
            {
                Directory.Delete(d);
            }
        }
    }
}
