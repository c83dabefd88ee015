using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using SkiaSharp;

namespace ZetaPrep.Tests.Imaging;

/// <summary>Tiny test images made in code: Skia-encoded JPEG/PNG and hand-written PNG chunks for variants Skia will not write.</summary>
internal static class ImageFixtures
{
    /// <summary>Row-major RGBA (unpremultiplied) from a per-pixel function.</summary>
    public static byte[] Rgba(int w, int h, Func<int, int, (byte R, byte G, byte B, byte A)> pixel)
    {
        var data = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var (r, g, b, a) = pixel(x, y);
                int i = ((y * w) + x) * 4;
                (data[i], data[i + 1], data[i + 2], data[i + 3]) = (r, g, b, a);
            }
        }

        return data;
    }

    public static byte[] Rgb(int w, int h, Func<int, int, (byte R, byte G, byte B)> pixel) =>
        Rgba(w, h, (x, y) => { var (r, g, b) = pixel(x, y); return (r, g, b, 255); })
            .Where((_, i) => i % 4 != 3).ToArray();

    public static byte[] Encode(int w, int h, byte[] rgba, SKEncodedImageFormat format, int quality = 100)
    {
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var image = SKImage.FromPixelCopy(info, rgba);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] Png(int w, int h, Func<int, int, (byte R, byte G, byte B, byte A)> pixel) =>
        Encode(w, h, Rgba(w, h, pixel), SKEncodedImageFormat.Png);

    public static byte[] Jpeg(int w, int h, Func<int, int, (byte R, byte G, byte B)> pixel, int quality = 100) =>
        Encode(w, h, Rgba(w, h, (x, y) => { var (r, g, b) = pixel(x, y); return (r, g, b, 255); }), SKEncodedImageFormat.Jpeg, quality);

    /// <summary>A PNG written chunk by chunk: raw = filtered scanlines (filter byte + row), any bit depth/colour type.</summary>
    public static byte[] HandPng(int w, int h, byte bitDepth, byte colorType, byte[] raw, byte[]? palette = null, bool interlaced = false)
    {
        using var z = new MemoryStream();
        using (var zlib = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        return HandPngOfZlib(w, h, bitDepth, colorType, z.ToArray(), palette, interlaced: interlaced);
    }

    /// <summary>
    /// A PNG around a given zlib stream (<paramref name="zlib"/>: any bytes, valid or not), in IDAT chunks of
    /// <paramref name="idatSizes"/> bytes (the rest in one more chunk; none: one chunk), every CRC valid.
    /// </summary>
    public static byte[] HandPngOfZlib(int w, int h, byte bitDepth, byte colorType, byte[] zlib, byte[]? palette = null, int[]? idatSizes = null, bool interlaced = false)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        ihdr[12] = interlaced ? (byte)1 : (byte)0;
        Chunk(png, "IHDR", ihdr);
        if (palette is not null)
        {
            Chunk(png, "PLTE", palette);
        }

        var at = 0;
        foreach (var size in idatSizes ?? [])
        {
            Chunk(png, "IDAT", zlib[at..(at + size)]);
            at += size;
        }
        if (at < zlib.Length || idatSizes is null)
        {
            Chunk(png, "IDAT", zlib[at..]);
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, head.AsSpan(4));
        s.Write(head);
        s.Write(data);
        var crc = new Crc32();
        crc.Append(head.AsSpan(4));
        crc.Append(data);
        var c = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, crc.GetCurrentHashAsUInt32());
        s.Write(c);
    }

    /// <summary>Inserts an APP1 Exif segment holding only the Orientation tag right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] exif = [.. "Exif\0\0"u8, .. ExifOrientation(orientation)];
        int length = exif.Length + 2;
        return [.. jpeg.AsSpan(0, 2), 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. exif, .. jpeg.AsSpan(2)];
    }

    /// <summary>Inserts an eXIf chunk holding only the Orientation tag right after the PNG's IHDR chunk.</summary>
    public static byte[] PngWithExifOrientation(byte[] png, ushort orientation)
    {
        const int AfterIhdr = 8 + 25;
        using var chunk = new MemoryStream();
        Chunk(chunk, "eXIf", ExifOrientation(orientation));
        return [.. png.AsSpan(0, AfterIhdr), .. chunk.ToArray(), .. png.AsSpan(AfterIhdr)];
    }

    /// <summary>A big-endian TIFF structure whose IFD0 holds only the Orientation tag.</summary>
    private static byte[] ExifOrientation(ushort orientation) =>
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at offset 8
            0, 1,                                    // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1,           // tag 0x0112 Orientation, type SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0, 0,
            0, 0, 0, 0,                             // no next IFD
        ];

    /// <summary>The RGB pixel at (x, y) of a size×size RGB24 buffer.</summary>
    public static (byte R, byte G, byte B) At(byte[] rgb, int size, int x, int y)
    {
        int i = ((y * size) + x) * 3;
        return (rgb[i], rgb[i + 1], rgb[i + 2]);
    }
}
