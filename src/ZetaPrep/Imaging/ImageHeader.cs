namespace ZetaPrep.Imaging;

/// <summary>What an image header says, read without decoding pixels.</summary>
/// <param name="Format">Container format in upper case: "JPEG", "PNG", "WEBP", "GIF", "BMP", …</param>
/// <param name="Width">Width as displayed, i.e. after the EXIF orientation is applied.</param>
/// <param name="Height">Height as displayed, i.e. after the EXIF orientation is applied.</param>
public readonly record struct ImageHeader(string Format, int Width, int Height)
{
    /// <summary>Width × height without overflow.</summary>
    public long Pixels => (long)Width * Height;
}
