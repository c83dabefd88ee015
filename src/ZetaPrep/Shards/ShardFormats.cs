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

    /// <summary>Deletes every format's shard and index files in <paramref name="outputDirectory"/> (for <c>--overwrite</c>); other files stay.</summary>
    public static void DeleteOutputs(string outputDirectory)
    {
        foreach (var file in Directory.EnumerateFiles(outputDirectory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(outputDirectory, file).Replace('\\', '/');
            if (IsOutputFile(relative))
            {
                File.Delete(file);
            }
        }
    }
}
