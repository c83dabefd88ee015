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
