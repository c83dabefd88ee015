using SkiaSharp;
using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

public sealed class ImageIntegrityTests
{
    private static readonly byte[] Png = ImageFixtures.Png(24, 16, (x, y) => ((byte)(x * 10), (byte)(y * 15), 90, 255));
    private static readonly byte[] Jpeg = ImageFixtures.Jpeg(40, 24, (x, y) => ((byte)(x * 6), (byte)(y * 10), 128), quality: 90);

    [Fact]
    public void Valid_png_and_jpeg_pass()
    {
        ImageIntegrity.Check(Png, "a.png");
        ImageIntegrity.Check(Jpeg, "a.jpg");
        ImageIntegrity.Check(OddJpegs.Progressive, "p.jpg");
        ImageIntegrity.Check(OddJpegs.Cmyk, "c.jpg");
        ImageIntegrity.Check(ImageFixtures.WithExifOrientation(Jpeg, 6), "e.jpg");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    [InlineData(40)]
    public void Truncated_png_is_named_and_explained(int cut)
    {
        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(Png.AsSpan(0, Png.Length - cut), "dir/x.png"));
        Assert.StartsWith("dir/x.png: truncated PNG", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Png_with_a_flipped_bit_fails_its_crc()
    {
        var bad = (byte[])Png.Clone();
        bad[bad.Length / 2] ^= 0x10;
        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(bad, "x.png"));
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
        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(png, "x.png"));
        Assert.Contains("corrupt PNG image data", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(50)]
    [InlineData(300)]
    public void Truncated_jpeg_is_named_and_explained(int cut)
    {
        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(Jpeg.AsSpan(0, Jpeg.Length - cut), "x.jpg"));
        Assert.StartsWith("x.jpg: truncated JPEG", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Progressive_jpeg_cut_between_scans_is_truncated()
    {
        // The last scan header (FFDA) of a progressive file: cut right after it.
        var p = OddJpegs.Progressive;
        var lastSos = p.AsSpan().LastIndexOf(new byte[] { 0xFF, 0xDA });
        Assert.True(lastSos > 0);
        Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(p.AsSpan(0, lastSos + 4), "p.jpg"));
    }

    [Fact]
    public void Other_formats_are_left_to_the_decoder()
    {
        using var bitmap = new SKBitmap(4, 4);
        using var webp = bitmap.Encode(SKEncodedImageFormat.Webp, 80);
        ImageIntegrity.Check(webp.ToArray(), "x.webp");
        ImageIntegrity.Check([1, 2, 3], "x.bin");
    }
}
