using System.Runtime.CompilerServices;
using ZetaPrep.Imaging;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>Validation images from a shard directory; each row's class is its dominant class (use unmixed shards here).</summary>
public sealed class ShardValidation : IValidationSource
{
    private readonly ShardDirectory _directory;
    private readonly IImageDecoder _decoder;

    public ShardValidation(ShardDirectory directory, IImageDecoder decoder)
    {
        _directory = directory;
        _decoder = decoder;
    }

    public string Description => _directory.Path;

    public Task<IReadOnlyList<string>> ReadClassNamesAsync(CancellationToken cancellationToken) => Task.FromResult(_directory.ClassNames);

    public async IAsyncEnumerable<LabelledImage> ReadImagesAsync(int size, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in _directory.Files)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(file, cancellationToken).ConfigureAwait(false))
            {
                var rgb = new byte[size * size * 3];
                _decoder.DecodeResized(row.ImageBytes.Span, row.ImagePath, size, ResizeMode.Crop, rgb);
                yield return new LabelledImage(rgb, checked((int)row.Dominant));
            }
        }
    }
}
