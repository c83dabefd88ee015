using System.Runtime.CompilerServices;
using ZetaPrep.Imaging;
using ZetaPrep.Sources;

namespace ZetaPrep.Training;

/// <summary>Validation images from any <see cref="IImageSource"/> (an ImageFolder, or a dataset preset's source), centre-cropped to the size.</summary>
public sealed class ImageSourceValidation : IValidationSource
{
    private readonly IImageSource _source;
    private readonly IImageDecoder _decoder;
    private SourceListing? _listing;

    public ImageSourceValidation(IImageSource source, IImageDecoder decoder)
    {
        _source = source;
        _decoder = decoder;
    }

    public string Description => _source.Description;

    public async Task<IReadOnlyList<string>> ReadClassNamesAsync(CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken).ConfigureAwait(false)).ClassNames;

    public async IAsyncEnumerable<LabelledImage> ReadImagesAsync(int size, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listing = await ListAsync(cancellationToken).ConfigureAwait(false);
        foreach (var item in listing.Items)
        {
            var rgb = new byte[size * size * 3];
            try
            {
                using var bytes = await _source.ReadPooledAsync(item, cancellationToken).ConfigureAwait(false);
                _decoder.DecodeResized(bytes.Span, item.Id, size, ResizeMode.Crop, rgb);
            }
            catch (Exception e) when (e is ZetaPrepException or IOException or UnauthorizedAccessException)
            {
                // Every validation image is scored, so a bad one stops the run before training, naming --val and the file.
                var reason = e is ZetaPrepException ? e.Message.TrimEnd('.') : $"{item.Id}: cannot be read ({e.Message.TrimEnd('.')})";
                throw new ZetaPrepException($"--val {Description}: {reason}; replace or remove that image (every validation image is evaluated).", e);
            }
            yield return new LabelledImage(rgb, item.ClassIndex);
        }
    }

    private async Task<SourceListing> ListAsync(CancellationToken cancellationToken) =>
        _listing ??= await _source.ListAsync(cancellationToken).ConfigureAwait(false);
}
