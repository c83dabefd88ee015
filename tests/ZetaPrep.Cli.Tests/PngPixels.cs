using SkiaSharp;

namespace ZetaPrep.Cli.Tests;

/// <summary>Decodes PNG bytes to packed RGB with SkiaSharp: a reader independent of our encoder.</summary>
internal static class PngPixels
{
    public static byte[] Decode(byte[] png, out int width, out int height)
    {
        using var bitmap = SKBitmap.Decode(png) ?? throw new InvalidDataException("not a decodable PNG");
        width = bitmap.Width;
        height = bitmap.Height;
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                var o = (y * width + x) * 3;
                rgb[o] = c.Red;
                rgb[o + 1] = c.Green;
                rgb[o + 2] = c.Blue;
            }
        }
        return rgb;
    }
}
