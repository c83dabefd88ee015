namespace ZetaPrep.Shards;

/// <summary>The registered shard formats, by <see cref="ShardFormat"/> or by <c>--format</c> name.</summary>
public static class ShardFormats
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

    /// <summary>Whether <paramref name="relativePath"/> is a shard or index file of some format.</summary>
    public static bool IsOutputFile(string relativePath) => All.Any(f => f.IsInDataArea(relativePath) || f.IndexFiles.Contains(relativePath));

    /// <summary>
    /// Deletes every format's shard and index files in <paramref name="outputDirectory"/> (for <c>--overwrite</c>), and
    /// the folders that held them once empty (a folder-format output replaced by Parquet left images/ and labels/
    /// behind); other files stay, and so do the folders holding them.
    /// </summary>
    public static void DeleteOutputs(string outputDirectory)
    {
        var emptied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(outputDirectory, "*", SearchOption.AllDirectories).ToList())
        {
            var relative = Path.GetRelativePath(outputDirectory, file).Replace('\\', '/');
            if (IsOutputFile(relative))
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
