using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using ZetaPrep.Imaging;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Imaging;

/// <summary>
/// PngDecoder against Skia's own decode (SkiaImageDecoder with FastPng off), pixel for pixel: PNGs built here with every
/// filter type on every row pattern, every colour type it takes, odd widths, and every (colour, alpha) pair. Decoded at
/// their own size, the resampler passes pixels through, so the outputs are the premultiplied pixels themselves.
/// </summary>
public sealed class PngDecoderTests
{
    private static readonly SkiaImageDecoder Fast = new();
    private static readonly SkiaImageDecoder Skia = new() { FastPng = false };

    /// <summary>A PNG of <paramref name="pixels"/> (rows of width × channels bytes), row y filtered with filters[y % n].</summary>
    internal static byte[] Build(int width, int height, int colorType, byte[] pixels, byte[] filters, params (string Type, byte[] Body)[] extra)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        int rowBytes = width * channels;
        using var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            var filter = filters[y % filters.Length];
            raw.WriteByte(filter);
            for (var i = 0; i < rowBytes; i++)
            {
                int x = pixels[(y * rowBytes) + i];
                int a = i >= channels ? pixels[(y * rowBytes) + i - channels] : 0;
                int b = y > 0 ? pixels[((y - 1) * rowBytes) + i] : 0;
                int c = y > 0 && i >= channels ? pixels[((y - 1) * rowBytes) + i - channels] : 0;
                int predicted = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    _ => Paeth(a, b, c),
                };
                raw.WriteByte((byte)(x - predicted));
            }
        }
        using var z = new MemoryStream();
        using (var zlib = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zlib);
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        (ihdr[8], ihdr[9]) = (8, (byte)colorType);
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        foreach (var (type, body) in extra)
        {
            Chunk(png, type, body);
        }
        var data = z.ToArray();
        var half = data.Length / 2; // two IDAT chunks
        Chunk(png, "IDAT", data[..half]);
        Chunk(png, "IDAT", data[half..]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static int Paeth(int a, int b, int c)
    {
        int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - (2 * c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void Chunk(Stream s, string type, byte[] body)
    {
        Span<byte> be = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(be, body.Length);
        s.Write(be);
        var typed = new byte[4 + body.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typed);
        body.CopyTo(typed, 4);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(be, Crc32.HashToUInt32(typed));
        s.Write(be);
    }

    private static void AssertSamePixels(byte[] png, int size, bool fastTaken)
    {
        var fast = new byte[size * size * 3];
        var skia = new byte[size * size * 3];
        Fast.DecodeResized(png, "t.png", size, ResizeMode.Stretch, fast);
        Skia.DecodeResized(png, "t.png", size, ResizeMode.Stretch, skia);
        Assert.Equal(skia, fast);
        Assert.Equal(Skia.ReadHeader(png, "t.png"), Fast.ReadHeader(png, "t.png"));
        Assert.Equal(fastTaken, PngDecoder.TryParse(png, checkCrc: true, out var layout) && PngDecoder.TryDecodeResized(png, layout, size, ResizeMode.Stretch, new byte[size * size * 3]));
    }

    public static TheoryData<int, int> Shapes() => new() { { 0, 1 }, { 0, 17 }, { 2, 1 }, { 2, 3 }, { 2, 33 }, { 4, 5 }, { 4, 16 }, { 6, 7 }, { 6, 32 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryFilter_OnEveryColourType_GivesSkiasPixels(int colorType, int width)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        var rng = new Random((colorType * 100) + width);
        var pixels = new byte[width * width * channels];
        // Smooth ramps (where Paeth's three choices all occur) with noise, and a few flat runs.
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i % 7 == 0 ? rng.Next(256) : (i * 13 / (channels + 1)) + rng.Next(4)) & 0xFF);
        }
        AssertSamePixels(Build(width, width, colorType, pixels, [0, 1, 2, 3, 4, 4, 3, 2, 1]), width, Libdeflate.IsAvailable);
        AssertSamePixels(Build(width, width, colorType, pixels, [4]), width, Libdeflate.IsAvailable);
    }

    [Fact]
    public void EveryColourAndAlphaPair_PremultipliesAsSkiaDoes()
    {
        // 256 × 256 RGBA: red = x, green = 255 − x, blue = y, alpha = y; and the grey + alpha equivalent.
        var rgba = new byte[256 * 256 * 4];
        var ga = new byte[256 * 256 * 2];
        for (var y = 0; y < 256; y++)
        {
            for (var x = 0; x < 256; x++)
            {
                var p = (y * 256) + x;
                (rgba[4 * p], rgba[(4 * p) + 1], rgba[(4 * p) + 2], rgba[(4 * p) + 3]) = ((byte)x, (byte)(255 - x), (byte)y, (byte)y);
                (ga[2 * p], ga[(2 * p) + 1]) = ((byte)x, (byte)y);
            }
        }
        AssertSamePixels(Build(256, 256, 6, rgba, [1, 4]), 256, Libdeflate.IsAvailable);
        AssertSamePixels(Build(256, 256, 4, ga, [2, 3]), 256, Libdeflate.IsAvailable);
    }

    [Fact]
    public void TextChunks_AreIgnored_ColourAndTransparencyChunks_GoToSkia()
    {
        var pixels = Enumerable.Range(0, 8 * 8 * 3).Select(i => (byte)(i * 5)).ToArray();
        AssertSamePixels(Build(8, 8, 2, pixels, [4], ("tEXt", "Comment\0hello"u8.ToArray()), ("pHYs", new byte[9])), 8, Libdeflate.IsAvailable);
        AssertSamePixels(Build(8, 8, 2, pixels, [4], ("gAMA", [0, 0, 0x4E, 0x20])), 8, fastTaken: false);
        AssertSamePixels(Build(8, 8, 2, pixels, [4], ("tRNS", [0, 0, 0, 5, 0, 10])), 8, fastTaken: false);
    }

    [Fact]
    public void DamagedImageData_FailsWithSkiasMessage()
    {
        var pixels = Enumerable.Range(0, 16 * 16 * 3).Select(i => (byte)(i * 7)).ToArray();
        foreach (var damage in new Func<byte[], byte[]>[]
        {
            png => Build(16, 16, 2, pixels, [5]), // filter byte 5 does not exist
            png => png[..^30], // cut inside the image data
            png =>
            {
                // A flipped byte in the zlib stream, with the chunk's CRC made good again: only the inflate can tell.
                var bad = (byte[])png.Clone();
                var idat = bad.AsSpan().IndexOf("IDAT"u8);
                var length = BinaryPrimitives.ReadInt32BigEndian(bad.AsSpan(idat - 4));
                bad[idat + 4 + (length / 2)] ^= 0x55;
                BinaryPrimitives.WriteUInt32BigEndian(bad.AsSpan(idat + 4 + length), Crc32.HashToUInt32(bad.AsSpan(idat, 4 + length)));
                return bad;
            },
        })
        {
            var png = damage(Build(16, 16, 2, pixels, [1]));
            var fast = Record.Exception(() => Fast.DecodeResized(png, "t.png", 16, ResizeMode.Stretch, new byte[16 * 16 * 3]));
            var skia = Record.Exception(() => Skia.DecodeResized(png, "t.png", 16, ResizeMode.Stretch, new byte[16 * 16 * 3]));
            Assert.Equal(skia?.GetType(), fast?.GetType());
            Assert.Equal(skia?.Message, fast?.Message);
        }
    }
}
