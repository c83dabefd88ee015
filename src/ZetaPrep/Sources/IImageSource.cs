namespace ZetaPrep.Sources;

/// <summary>Where originals come from: lists them with labels (no pixels) and reads one's encoded bytes.</summary>
public interface IImageSource
{
    /// <summary>A one-line description for manifests and messages (e.g. the folder's path).</summary>
    string Description { get; }

    /// <summary>Lists every item with its label, sorted by id (ordinal).</summary>
    Task<SourceListing> ListAsync(CancellationToken cancellationToken);

    /// <summary>Reads one item's encoded bytes.</summary>
    Task<byte[]> ReadAsync(SourceItem item, CancellationToken cancellationToken);
}
