namespace ZetaPrep.Training;

/// <summary>Original (unmixed) images with hard labels to evaluate on; an ImageFolder, a shard directory or a dataset preset.</summary>
public interface IValidationSource
{
    /// <summary>One line naming the source in messages and config.json (e.g. the folder's path).</summary>
    string Description { get; }

    /// <summary>Class names in class-index order.</summary>
    Task<IReadOnlyList<string>> ReadClassNamesAsync(CancellationToken cancellationToken);

    /// <summary>Streams every image decoded to <paramref name="size"/>² RGB24 with its class index.</summary>
    IAsyncEnumerable<LabelledImage> ReadImagesAsync(int size, CancellationToken cancellationToken);
}
