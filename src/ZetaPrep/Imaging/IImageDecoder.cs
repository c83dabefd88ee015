namespace ZetaPrep.Imaging;

/// <summary>Turns encoded image bytes into square RGB24 pixels; implementations are thread-safe.</summary>
/// <remarks>Bad input (corrupt, truncated, unknown format, over the limits) throws <see cref="ZetaPrepException"/>
/// whose one-line message starts with <c>name</c>.</remarks>
public interface IImageDecoder
{
    /// <summary>Reads format and displayed size from the header only, without decoding pixels.</summary>
    ImageHeader ReadHeader(ReadOnlySpan<byte> encoded, string name);

    /// <summary>Decodes, applies EXIF orientation, resizes to <paramref name="size"/>² and writes exactly size*size*3 bytes of row-major RGB24.</summary>
    void DecodeResized(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut);

    /// <summary>
    /// Whether <see cref="DecodeResized"/> refuses this JPEG when its scan data stops early or is corrupt (libjpeg's
    /// data-loss warnings), rather than filling what is missing with gray; the validation pass then need not decode the
    /// scans itself to find out.
    /// </summary>
    bool DetectsJpegDataLoss(ReadOnlySpan<byte> encoded) => false;
}
