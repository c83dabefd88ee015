using SkiaSharp;

namespace ZetaPrep.Cli.Tests;

/// <summary>Writes small ImageFolder fixtures (PNG/JPEG) generated in code.</summary>
internal static class ImageFixtures
{
    /// <summary>A solid-colour RGB image encoded as PNG or JPEG.</summary>
    public static byte[] Solid(int width, int height, byte r, byte g, byte b, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(r, g, b));
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>A smooth gradient image, for codecs that should see real structure.</summary>
    public static byte[] Gradient(int width, int height, int seed, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)(seed * 37)));
            }
        }
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>Colour of solid fixture image i: distinct per image, so a mixed pixel tells which inputs it came from.</summary>
    public static (byte R, byte G, byte B) ColourOf(int i) => ((byte)(i * 53 % 256), (byte)(i * 101 % 256), (byte)(255 - i * 29 % 256));

    /// <summary>classes × perClass solid-colour PNGs of varying size; returns ids (relative paths) → colour.</summary>
    public static Dictionary<string, (byte R, byte G, byte B)> SolidFolder(string root, int classes, int perClass)
    {
        var colours = new Dictionary<string, (byte, byte, byte)>();
        var i = 0;
        for (var c = 0; c < classes; c++)
        {
            var dir = Path.Combine(root, $"class_{(char)('a' + c)}");
            Directory.CreateDirectory(dir);
            for (var k = 0; k < perClass; k++, i++)
            {
                var colour = ColourOf(i);
                var name = $"img{k:D3}.png";
                File.WriteAllBytes(Path.Combine(dir, name), Solid(10 + i % 7, 8 + i % 5, colour.R, colour.G, colour.B));
                colours[$"class_{(char)('a' + c)}/{name}"] = colour;
            }
        }
        return colours;
    }

    /// <summary>A mixed folder: JPEG and PNG (upper-case extensions too), non-square, nested sub-folders.</summary>
    public static void MixedFolder(string root, int classes, int perClass)
    {
        var i = 0;
        for (var c = 0; c < classes; c++)
        {
            var dir = Path.Combine(root, $"c{c}");
            Directory.CreateDirectory(Path.Combine(dir, "nested"));
            for (var k = 0; k < perClass; k++, i++)
            {
                var jpeg = k % 2 == 0;
                var name = k % 3 == 0 ? $"nested/x{k}" : $"x{k}";
                var ext = jpeg ? (k % 4 == 0 ? ".JPG" : ".jpeg") : ".png";
                File.WriteAllBytes(Path.Combine(dir, name + ext),
                    Gradient(40 + 7 * k, 30 + 3 * c, i, jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png));
            }
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image");
        }
    }
}
