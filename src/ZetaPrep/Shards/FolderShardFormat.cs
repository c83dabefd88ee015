using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace ZetaPrep.Shards;

/// <summary>Plain files: <c>images/KEY.png</c> and <c>labels.parquet</c> (file_name + labels); each shard is a label part <c>labels/{split}-…parquet</c> plus the images it lists.</summary>
internal sealed class FolderShardFormat : IShardFormat
{
    public const string LabelsFileName = "labels.parquet";

    public ShardFormat Kind => ShardFormat.Folder;

    public string Name => "folder";

    public IReadOnlyList<string> IndexFiles { get; } = [LabelsFileName];

    public string DataFilesGlob => LabelsFileName;

    public string ShardFileName(string split, int index, int count) =>
        "labels/" + ShardNaming.ParquetFileName(split, index, count)["data/".Length..];

    public async Task<IShardWriter> CreateWriterAsync(string outputDirectory, string relativePath, ShardSchema schema, CancellationToken ct) =>
        await FolderShardWriter.CreateAsync(outputDirectory, relativePath, schema, ct).ConfigureAwait(false);

    /// <summary>Rows of one part, each image read back and checked against the SHA-256 the part records; the first missing or changed image ends it.</summary>
    public async IAsyncEnumerable<ShardRow> ReadRowsAsync(string outputDirectory, string relativePath, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (row, problem) in ReadRowsOrProblemsAsync(outputDirectory, relativePath, ct).ConfigureAwait(false))
        {
            // Named with the output directory: train reads several, and the problem's paths are relative to it.
            yield return problem is null ? row : throw new ZetaPrepException($"{outputDirectory}: {problem}{ResumeAdvice}");
        }
    }

    /// <summary>The way to repair a missing or changed image, for callers of <see cref="ReadRowsOrProblemsAsync"/> that give
    /// it (the readers and verify; merge has its own).</summary>
    internal const string ResumeAdvice = "; rerun the generate command with --resume, which redoes that shard.";

    /// <summary>
    /// Every row a part lists, each read (its image present and the bytes recorded) or, for a missing or changed image,
    /// with the problem with it and no image bytes (what the part lists of the row is still there: preview draws it
    /// crossed out, inspect counts its label): in this format an image is one row's file, so verify reports each and
    /// goes on. An unreadable label part is still a <see cref="ZetaPrepException"/>.
    /// </summary>
    internal static async IAsyncEnumerable<(ShardRow Row, string? Problem)> ReadRowsOrProblemsAsync(string outputDirectory, string relativePath, [EnumeratorCancellation] CancellationToken ct)
    {
        var labels = await FolderShardWriter.ReadLabelsAsync(Path.Combine(outputDirectory, relativePath), ct).ConfigureAwait(false);
        foreach (var l in labels)
        {
            var imagePath = Path.Combine(outputDirectory, l.FileName);
            byte[]? png = null;
            try
            {
                png = await File.ReadAllBytesAsync(imagePath, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // reported below: a yield cannot sit in a catch
            }
            var problem = png is null ? $"{l.FileName}: listed in {relativePath} but missing"
                : !string.Equals(Convert.ToHexStringLower(SHA256.HashData(png)), l.Sha256, StringComparison.Ordinal)
                    ? $"{l.FileName}: SHA-256 differs from the one recorded in {relativePath}; the image was changed or damaged"
                    : null;
            yield return (new ShardRow(
                problem is null ? png! : ReadOnlyMemory<byte>.Empty,
                Path.GetFileName(l.FileName),
                l.Label,
                l.Dominant,
                l.Sources,
                l.Weights,
                l.Gamma,
                l.Original,
                l.Method,
                l.Lam), problem);
        }
    }

    /// <summary>The label part plus every image it lists.</summary>
    public async Task<long> StoredBytesAsync(string outputDirectory, string relativePath, CancellationToken ct)
    {
        var part = Path.Combine(outputDirectory, relativePath);
        var bytes = new FileInfo(part).Length;
        foreach (var l in await FolderShardWriter.ReadLabelsAsync(part, ct).ConfigureAwait(false))
        {
            bytes += new FileInfo(Path.Combine(outputDirectory, l.FileName)).Length;
        }
        return bytes;
    }

    /// <summary><c>labels.parquet</c>: the parts' rows in shard order.</summary>
    public async Task<IReadOnlyList<(string Relative, byte[] Bytes)>> BuildIndexAsync(string outputDirectory, IReadOnlyList<string> shardFiles, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(shardFiles);
        var all = new List<FolderLabelRow>();
        IReadOnlyList<string>? classNames = null;
        foreach (var part in shardFiles)
        {
            var (rows, names) = await FolderShardWriter.ReadLabelTableAsync(Path.Combine(outputDirectory, part), ct).ConfigureAwait(false);
            all.AddRange(rows);
            classNames ??= names;
        }
        // With the parts' HuggingFace features (dominant as a ClassLabel): a pure function of the parts still.
        return [(LabelsFileName, await FolderLabelTable.ToBytesAsync(all, classNames, ct).ConfigureAwait(false))];
    }

    public bool IsInDataArea(string relativePath) =>
        relativePath.StartsWith(FolderShardWriter.ImagesDirectory + "/", StringComparison.Ordinal)
        || relativePath.StartsWith("labels/", StringComparison.Ordinal);
}
