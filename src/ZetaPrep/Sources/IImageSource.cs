namespace ZetaPrep.Sources;

/// <summary>Where originals come from: lists them with labels (no pixels) and reads one's encoded bytes.</summary>
public interface IImageSource
{
    /// <summary>A one-line description for manifests and messages (e.g. the folder's path).</summary>
    string Description { get; }

    /// <summary>Lists every item with its label, sorted by id (ordinal).</summary>
    Task<SourceListing> ListAsync(CancellationToken cancellationToken);

    /// <summary>How messages name an item: the file it is, or the archive and entry it is read from.</summary>
    string DisplayName(SourceItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return $"{Description}/{item.Id}";
    }

    /// <summary>Reads one item's encoded bytes.</summary>
    Task<byte[]> ReadAsync(SourceItem item, CancellationToken cancellationToken);

    /// <summary>Reads one item's encoded bytes into a pooled buffer the caller disposes; same bytes and errors as <see cref="ReadAsync"/>.</summary>
    /// <remarks>The built-in sources read synchronously on the calling thread (cached files are fast syscalls, and the
    /// worker stays the one --threads counted); this default wraps <see cref="ReadAsync"/> for other sources.</remarks>
    async ValueTask<PooledBytes> ReadPooledAsync(SourceItem item, CancellationToken cancellationToken) =>
        PooledBytes.Wrap(await ReadAsync(item, cancellationToken).ConfigureAwait(false));
}
