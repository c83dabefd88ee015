using SkiaSharp;

namespace ZetaPrep.Imaging;

/// <summary>EXIF orientation facts shared by the decoders and <see cref="Resampler"/>.</summary>
internal static class ResizeTransform
{
    /// <summary>True when the EXIF origin turns the image a quarter (display width = stored height).</summary>
    public static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
}
