namespace ZetaPrep.Sources;

/// <summary>
/// Where a listing came from beyond its path: the preset and split, and the input files (downloaded archives, label
/// files) whose size and SHA-256 a run's manifest records.
/// </summary>
/// <remarks>
/// Listing does not hash them: SHA-256 runs at ~1.5 GB/s on one core, ~4 s for ISIC 2017's 5.8 GB archive and ~15 s for
/// ISIC 2020's 23 GB, which is wall time on a many-core machine if it comes before the parallel validation pass. A run
/// starts <see cref="HashFilesAsync"/> beside that pass and the batches and needs the result only for its manifest;
/// commands that only read the images (analysis, training from a source) never hash at all.
/// </remarks>
public sealed record SourceProvenance(string? Preset, string? Split, IReadOnlyList<string> FilePaths)
{
    /// <summary>Remembers the files' hashes between runs (null: hash every time); from the environment by default.</summary>
    public FileHashCache? Cache { get; init; } = FileHashCache.FromEnvironment();

    /// <summary>A `--labels` source's label CSV (full path): with the columns and globs below, what opens the input again (preview).</summary>
    public string? LabelFile { get; init; }

    /// <summary>A `--labels` source's id column.</summary>
    public string? IdColumn { get; init; }

    /// <summary>A `--labels` source's class column; null: every other column is a one-hot/probability column.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>The `--exclude` globs the listing skipped.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Whether `--exclude-duplicates` dropped the preset's published duplicates.</summary>
    public bool ExcludeDuplicates { get; init; }

    /// <summary>Each file's name, size and SHA-256, in <see cref="FilePaths"/> order; the files are hashed in parallel.</summary>
    public async Task<IReadOnlyList<SourceFile>> HashFilesAsync(CancellationToken cancellationToken)
    {
        return await Task.WhenAll(FilePaths.Select(f => Task.Run(async () =>
        {
            try
            {
                var (bytes, hash, cached) = Cache is { } cache
                    ? await cache.HashAsync(f, cancellationToken).ConfigureAwait(false)
                    : await HashUncachedAsync(f, cancellationToken).ConfigureAwait(false);
                return new SourceFile(Path.GetFileName(f), bytes, Convert.ToHexStringLower(hash)) { FromCache = cached };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ZetaPrepException($"{f}: cannot be read to record its SHA-256 in the manifest ({e.Message.TrimEnd('.')}); check the file and its permissions, then rerun with --resume.", e);
            }
        }, cancellationToken))).ConfigureAwait(false);
    }

    private static async Task<(long, byte[], bool)> HashUncachedAsync(string path, CancellationToken cancellationToken)
    {
        var (bytes, hash) = await FileHashCache.HashFileAsync(path, cancellationToken).ConfigureAwait(false);
        return (bytes, hash, false);
    }
}

/// <summary>One input file (a downloaded archive or label file): name, size and SHA-256 (lower-case hex).</summary>
public sealed record SourceFile(string Name, long Bytes, string Sha256)
{
    /// <summary>The hash came from <see cref="FileHashCache"/> (the file is unchanged since it was hashed), not a read.</summary>
    public bool FromCache { get; init; }
}
