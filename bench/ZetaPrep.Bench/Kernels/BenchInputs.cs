using SkiaSharp;

namespace ZetaPrep.Bench.Kernels;

/// <summary>Inputs for the kernel benchmarks: a real 1024×768 JPEG from $ZETAPREP_BENCH_PHOTOS, else a synthetic one made with Skia.</summary>
internal static class BenchInputs
{
    public const string PhotosVariable = "ZETAPREP_BENCH_PHOTOS";

    /// <summary>Side of the square outputs (the ImageNet/ISIC default).</summary>
    public const int Size = 224;

    /// <summary>Images per mixing batch (--batch-size default).</summary>
    public const int Batch = 64;

    /// <summary>The first JPEG (ordinal path order) under $ZETAPREP_BENCH_PHOTOS, or a synthetic 1024×768 photo-like JPEG.</summary>
    public static byte[] Jpeg(out string origin)
    {
        var dir = Environment.GetEnvironmentVariable(PhotosVariable);
        if (!string.IsNullOrEmpty(dir) && Directory.Exists(dir))
        {
            var first = Directory.EnumerateFiles(dir, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).FirstOrDefault();
            if (first is not null)
            {
                origin = first;
                return File.ReadAllBytes(first);
            }
        }

        origin = "synthetic 1024×768";
        return SyntheticJpeg(1024, 768);
    }

    /// <summary>A deterministic photo-like JPEG (quality 90): gradients, fine noise and hard-edged discs.</summary>
    public static byte[] SyntheticJpeg(int w, int h)
    {
        var random = new Random(7);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var rgba = new byte[info.BytesSize];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int i = ((y * w) + x) * 4, n = random.Next(24);
                rgba[i] = (byte)Math.Clamp((x * 200 / w) + n, 0, 255);
                rgba[i + 1] = (byte)Math.Clamp((y * 200 / h) + n, 0, 255);
                rgba[i + 2] = (byte)Math.Clamp(((x + y) * 120 / (w + h)) + 60 + n, 0, 255);
                rgba[i + 3] = 255;
            }
        }

        using var bitmap = new SKBitmap();
        bitmap.InstallPixels(info, System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(rgba, 0), info.RowBytes);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { IsAntialias = false })
        {
            for (int d = 0; d < 12; d++)
            {
                paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                canvas.DrawCircle(random.Next(w), random.Next(h), 20 + random.Next(120), paint);
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        GC.KeepAlive(rgba);
        return data.ToArray();
    }

    /// <summary>Deterministic pseudo-random bytes (pixels that compress like noise: the worst case for PNG and Parquet).</summary>
    public static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
