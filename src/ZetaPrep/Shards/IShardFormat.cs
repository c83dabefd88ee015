namespace ZetaPrep.Shards;

/// <summary>One on-disk shard format: file naming, writer, reader and the dataset-level files written after the last shard.</summary>
/// <remarks>Paths named "relative" are relative to the output directory and use '/' separators.</remarks>
public interface IShardFormat
{
    ShardFormat Kind { get; }

    /// <summary>The <c>--format</c> value.</summary>
    string Name { get; }

    /// <summary>The relative path of shard <paramref name="index"/> of <paramref name="count"/>.</summary>
    string ShardFileName(string split, int index, int count);

    /// <summary>Starts a shard at <paramref name="relativePath"/> inside <paramref name="outputDirectory"/>.</summary>
    Task<IShardWriter> CreateWriterAsync(string outputDirectory, string relativePath, ShardSchema schema, CancellationToken ct);

    /// <summary>Streams the rows of a committed shard; a missing or corrupt file is a <see cref="ZetaPrepException"/> naming it.</summary>
    IAsyncEnumerable<ShardRow> ReadRowsAsync(string outputDirectory, string relativePath, CancellationToken ct);

    /// <summary>The bytes of the dataset-level files that summarise all shards (wids index, labels table), from the shards: a
    /// pure function of them, so <c>verify</c> can tell a damaged or replaced index; none for Parquet.</summary>
    Task<IReadOnlyList<(string Relative, byte[] Bytes)>> BuildIndexAsync(string outputDirectory, IReadOnlyList<string> shardFiles, CancellationToken ct);

    /// <summary>Writes <see cref="BuildIndexAsync"/>'s files, each atomically.</summary>
    async Task FinishAsync(string outputDirectory, IReadOnlyList<string> shardFiles, CancellationToken ct)
    {
        foreach (var (relative, bytes) in await BuildIndexAsync(outputDirectory, shardFiles, ct).ConfigureAwait(false))
        {
            AtomicFile.Write(Path.Combine(outputDirectory, relative), bytes);
        }
    }

    /// <summary>Dataset-level files (relative) that <see cref="FinishAsync"/> writes.</summary>
    IReadOnlyList<string> IndexFiles { get; }

    /// <summary>Bytes a committed shard takes on disk with everything it consists of: its file, and for the folder format also
    /// the images its label part lists (the manifest's per-shard bytes are the shard file's alone, which verify checks).</summary>
    Task<long> StoredBytesAsync(string outputDirectory, string relativePath, CancellationToken ct) =>
        Task.FromResult(new FileInfo(Path.Combine(outputDirectory, relativePath)).Length);

    /// <summary>Glob of the files a HuggingFace dataset card's <c>data_files</c> names.</summary>
    string DataFilesGlob { get; }

    /// <summary>Whether a relative path lies where this format keeps shard data (an unknown file there deserves a warning).</summary>
    bool IsInDataArea(string relativePath);
}
