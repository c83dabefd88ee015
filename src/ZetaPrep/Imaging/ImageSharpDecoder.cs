// PLACEHOLDER: replaced by the ImageSharp branch
namespace ZetaPrep.Imaging;

/// <summary>Placeholder for the SixLabors.ImageSharp 2.1.13 decoder, which lives on another branch; every call throws.</summary>
public sealed class ImageSharpDecoder : IImageDecoder
{
    private const string Message = "--codec imagesharp: not available in this build";

    /// <summary>Accepts the limits the real decoder will enforce.</summary>
    public ImageSharpDecoder(ImageLimits? limits = null) => _ = limits;

    /// <inheritdoc/>
    public ImageHeader ReadHeader(ReadOnlySpan<byte> encoded, string name) => throw new ZetaPrepException(Message);

    /// <inheritdoc/>
    public void DecodeResized(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut) =>
        throw new ZetaPrepException(Message);
}
