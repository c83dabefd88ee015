namespace ZetaPrep.Shards;

/// <summary>Writes one shard; nothing is visible at the final path until <see cref="CompleteAsync"/> succeeds, and disposing without it aborts.</summary>
public interface IShardWriter : IAsyncDisposable
{
    /// <summary>Appends rows (one row group, or the format's equivalent).</summary>
    Task WriteRowGroupAsync(IReadOnlyList<ShardRow> rows, CancellationToken ct);

    /// <summary>
    /// Called while the generator waits for a shard's last batch: a format may start writing what it holds to stable
    /// storage in the background, so that <see cref="CompleteAsync"/>'s fsync has little left (and fails if that did).
    /// Returns at once; promises no durability; changes no bytes. By default nothing.
    /// </summary>
    void StartDataSync()
    {
    }

    /// <summary>Flushes, fsyncs and renames the shard into place; returns its final path, rows, bytes and SHA-256.</summary>
    Task<ShardFileInfo> CompleteAsync(CancellationToken ct);
}
