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

    /// <summary>The directory's absolute path (config.json records it, and a --resume from another directory compares it).</summary>
    public string Description => System.IO.Path.GetFullPath(_directory.Path);

    /// <summary>The class names; refuses (before any training) shards whose first row is a mix.</summary>
    public async Task<IReadOnlyList<string>> ReadClassNamesAsync(CancellationToken cancellationToken)
    {
        foreach (var file in _directory.Files.Take(1))
        {
            await foreach (var row in _directory.ReadRowsAsync(file, cancellationToken).ConfigureAwait(false))
            {
                CheckUnmixed(file, row);
                break;
            }
        }
        return _directory.ClassNames;
    }

    /// <summary>
    /// A validation image is one original with its own class: a mixed row scored against its dominant class would
    /// measure something else (and flatter any mixing method).
    /// </summary>
    private void CheckUnmixed(string file, ShardRow row)
    {
        if (row.Sources.Length != 1)
        {
            throw ZetaPrepException.Usage($"--val {_directory.Path}: {System.IO.Path.GetFileName(file)} holds mixed images ({row.ImagePath} mixes {row.Sources.Length}); validation needs originals: an ImageFolder, or shards made with zetaprep generate --method none.");
        }
    }

    public async IAsyncEnumerable<LabelledImage> ReadImagesAsync(int size, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in _directory.Files)
        {
            await foreach (var row in _directory.ReadRowsAsync(file, cancellationToken).ConfigureAwait(false))
            {
                CheckUnmixed(file, row);
                var rgb = new byte[size * size * 3];
                _decoder.DecodeResized(row.ImageBytes.Span, row.ImagePath, size, ResizeMode.Crop, rgb);
                yield return new LabelledImage(rgb, checked((int)row.Dominant));
            }
        }
    }
}
