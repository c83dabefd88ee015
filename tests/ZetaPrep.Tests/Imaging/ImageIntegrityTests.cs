using SkiaSharp;
using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

public sealed class ImageIntegrityTests
{
    private static readonly byte[] Png = ImageFixtures.Png(24, 16, (x, y) => ((byte)(x * 10), (byte)(y * 15), 90, 255));
    private static readonly byte[] Jpeg = ImageFixtures.Jpeg(40, 24, (x, y) => ((byte)(x * 6), (byte)(y * 10), 128), quality: 90);

    /// <summary>
    /// The check with a PNG's image data inflated whole by libdeflate (where it loads; CI requires it) and streamed
    /// through zlib-ng: the same verdict and message, which it then gives.
    /// </summary>
    private static void CheckBoth(ReadOnlySpan<byte> encoded, string name)
    {
        var bytes = encoded.ToArray();
        var streamed = Record.Exception(() => ImageIntegrity.Check(bytes, name, wholeInflate: false));
        var whole = Record.Exception(() => ImageIntegrity.Check(bytes, name, wholeInflate: true));
        Assert.Equal(streamed?.GetType(), whole?.GetType());
        Assert.Equal(streamed?.Message, whole?.Message);
        if (whole is not null)
        {
            throw whole;
        }
    }

    [Fact]
    public void Valid_png_and_jpeg_pass()
    {
        CheckBoth(Png, "a.png");
        CheckBoth(Jpeg, "a.jpg");
        CheckBoth(OddJpegs.Progressive, "p.jpg");
        CheckBoth(OddJpegs.Cmyk, "c.jpg");
        CheckBoth(ImageFixtures.WithExifOrientation(Jpeg, 6), "e.jpg");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    [InlineData(40)]
    public void Truncated_png_is_named_and_explained(int cut)
    {
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(Png.AsSpan(0, Png.Length - cut), "dir/x.png"));
        Assert.StartsWith("dir/x.png: truncated PNG", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Png_with_a_flipped_bit_fails_its_crc()
    {
        var bad = (byte[])Png.Clone();
        bad[bad.Length / 2] ^= 0x10;
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(bad, "x.png"));
        Assert.Contains("CRC", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Png_whose_image_data_does_not_inflate_is_corrupt_even_with_valid_crcs()
    {
        // Rewrite the IDAT body with garbage and a matching CRC: only the inflate catches it.
        var raw = new byte[16 * (1 + 24 * 3)];
        var png = ImageFixtures.HandPng(24, 16, 8, 2, raw);
        var idat = png.AsSpan().IndexOf("IDAT"u8);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(idat - 4));
        png.AsSpan(idat + 4 + 2, length - 2).Fill(0xEE);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(idat + 4 + length), System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan(idat, 4 + length)));
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(png, "x.png"));
        Assert.Contains("corrupt PNG image data", e.Message, StringComparison.Ordinal);
    }

    private static (byte[] Raw, byte[] Zlib) NoisyRgbData(int w, int h)
    {
        var raw = new byte[h * (1 + (w * 3))];
        new Random(w * h).NextBytes(raw);
        for (int y = 0; y < h; y++)
        {
            raw[y * (1 + (w * 3))] = 0; // filter: none
        }
        using var z = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(z, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }
        return (raw, z.ToArray());
    }

    [Fact]
    public void Png_image_data_split_over_many_idat_chunks_is_checked_whole()
    {
        // Encoders split the zlib stream over IDAT chunks anywhere (libpng every 8 KiB, some every few bytes, empty ones too).
        var (_, zlib) = NoisyRgbData(24, 16);
        int[] sizes = [0, 1, 7, 0, 100, 2, 300];
        var split = ImageFixtures.HandPngOfZlib(24, 16, 8, 2, zlib, idatSizes: sizes);
        CheckBoth(split, "split.png");
        using (var whole = SKBitmap.Decode(ImageFixtures.HandPngOfZlib(24, 16, 8, 2, zlib)))
        using (var pieces = SKBitmap.Decode(split))
        {
            Assert.Equal(whole.Bytes, pieces.Bytes); // the same image: the fixture splits the stream, not the pixels
        }

        // Damage inside the fourth non-empty chunk, every CRC valid: only the inflate across chunk boundaries finds it.
        var damaged = (byte[])zlib.Clone();
        damaged.AsSpan(150, 40).Fill(0xEE);
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(ImageFixtures.HandPngOfZlib(24, 16, 8, 2, damaged, idatSizes: sizes), "split.png"));
        Assert.StartsWith("split.png: corrupt PNG image data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_after_iend_are_ignored_even_when_they_look_like_an_idat_chunk_running_past_the_file()
    {
        // Decoders stop at IEND; the check must too, and must never follow a chunk length past the end of the bytes.
        // A complete stream never asks for the trailer; one cut short does, and must end as truncated at IEND.
        var (_, zlib) = NoisyRgbData(24, 16);
        byte[] trailer = [0x7F, 0xFF, 0xFF, 0xF0, (byte)'I', (byte)'D', (byte)'A', (byte)'T', 1, 2, 3, 4, 5, 6, 7, 8];
        CheckBoth([.. ImageFixtures.HandPngOfZlib(24, 16, 8, 2, zlib), .. trailer], "trailer.png");
        var cut = ImageFixtures.HandPngOfZlib(24, 16, 8, 2, zlib[..^30]);
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth([.. cut, .. trailer], "trailer.png"));
        Assert.StartsWith("trailer.png: truncated PNG image data", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5)] // the Adler-32 and the last byte of image data
    [InlineData(30)]
    [InlineData(600)]
    public void Png_whose_image_data_ends_early_is_corrupt_even_with_valid_crcs_and_an_iend(int cut)
    {
        var (_, zlib) = NoisyRgbData(24, 16);
        var png = ImageFixtures.HandPngOfZlib(24, 16, 8, 2, zlib[..^cut], idatSizes: [50]);
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(png, "short.png"));
        Assert.StartsWith("short.png: truncated PNG image data (it inflates to ", e.Message, StringComparison.Ordinal);
        Assert.Contains("the 24×16 header needs 1,168)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<byte, byte, bool> PngFormats()
    {
        var data = new TheoryData<byte, byte, bool>();
        foreach (var (type, depths) in new (byte, byte[])[] { (0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16]) })
        {
            foreach (var depth in depths)
            {
                data.Add(type, depth, false);
                data.Add(type, depth, true);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PngFormats))]
    public void Png_image_data_of_exactly_the_size_the_header_needs_passes_and_one_byte_less_fails_like_the_decoder(byte colorType, byte depth, bool interlaced)
    {
        // The size each format needs, counted pixel by pixel here (Adam7: which pass each pixel falls in), and held
        // against libpng's own view through Skia: the full size decodes, one byte less does not.
        int channels = colorType switch { 0 or 3 => 1, 2 => 3, 4 => 2, _ => 4 };
        byte[]? palette = colorType == 3 ? new byte[3 * 256] : null;
        foreach (var (w, h) in new[] { (1, 1), (3, 5), (9, 7), (17, 2), (2, 17) })
        {
            var needed = 0;
            var passes = interlaced ? 7 : 1;
            for (int pass = 0; pass < passes; pass++)
            {
                var widths = new int[h]; // pixels of this pass in each image row
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        widths[y] += !interlaced || Adam7Pass(x, y) == pass ? 1 : 0;
                    }
                }
                var rowWidth = widths.FirstOrDefault(c => c > 0);
                var rows = widths.Count(c => c > 0);
                needed += rows * (1 + (((rowWidth * channels * depth) + 7) / 8));
            }
            var png = ImageFixtures.HandPng(w, h, depth, colorType, new byte[needed], palette, interlaced);
            CheckBoth(png, "ok.png");
            // Inflated whole wherever libdeflate loads: the streaming half of CheckBoth is then the only other path.
            Assert.Equal(ZetaPrep.Sources.Libdeflate.IsAvailable, ImageIntegrity.Check(png, "ok.png", wholeInflate: true));
            Assert.Equal(SKCodecResult.Success, DecodeResult(png));

            var shorter = ImageFixtures.HandPng(w, h, depth, colorType, new byte[needed - 1], palette, interlaced);
            Assert.NotEqual(SKCodecResult.Success, DecodeResult(shorter));
            var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(shorter, "short.png"));
            Assert.Contains($"header needs {needed:N0})", e.Message, StringComparison.Ordinal);
        }
    }

    private static int Adam7Pass(int x, int y) => (x % 8, y % 8) switch
    {
        (0, 0) => 0,
        (4, 0) => 1,
        (0 or 4, 4) => 2,
        (2 or 6, 0 or 4) => 3,
        (0 or 2 or 4 or 6, 2 or 6) => 4,
        (_, 0 or 2 or 4 or 6) => 5,
        _ => 6,
    };

    private static SKCodecResult DecodeResult(byte[] png)
    {
        using var codec = SKCodec.Create(new MemoryStream(png));
        using var bitmap = new SKBitmap(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        return codec.GetPixels(bitmap.Info, bitmap.GetPixels());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(50)]
    [InlineData(300)]
    public void Truncated_jpeg_is_named_and_explained(int cut)
    {
        var e = Assert.Throws<ZetaPrepException>(() => CheckBoth(Jpeg.AsSpan(0, Jpeg.Length - cut), "x.jpg"));
        Assert.StartsWith("x.jpg: truncated JPEG", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Progressive_jpeg_cut_between_scans_is_truncated()
    {
        // The last scan header (FFDA) of a progressive file: cut right after it.
        var p = OddJpegs.Progressive;
        var lastSos = p.AsSpan().LastIndexOf(new byte[] { 0xFF, 0xDA });
        Assert.True(lastSos > 0);
        Assert.Throws<ZetaPrepException>(() => CheckBoth(p.AsSpan(0, lastSos + 4), "p.jpg"));
    }

    [Fact]
    public void Other_formats_are_left_to_the_decoder()
    {
        using var bitmap = new SKBitmap(4, 4);
        using var webp = bitmap.Encode(SKEncodedImageFormat.Webp, 80);
        CheckBoth(webp.ToArray(), "x.webp");
        CheckBoth([1, 2, 3], "x.bin");
    }
}
