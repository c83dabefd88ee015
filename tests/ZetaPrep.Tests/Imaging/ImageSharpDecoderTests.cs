using System.Globalization;
using SkiaSharp;
using Xunit.Abstractions;
using ZetaPrep.Imaging;
using static ZetaPrep.Tests.Imaging.ImageFixtures;

namespace ZetaPrep.Tests.Imaging;

/// <summary>The managed decoder keeps <see cref="SkiaImageDecoder"/>'s contract: same header, geometry, alpha, errors and limits.</summary>
public sealed class ImageSharpDecoderTests(ITestOutputHelper output) : DecoderContractTests
{
    /// <summary>Least PSNR (dB) between the two decoders' outputs for the same input; measured 35.1–43.7 dB (lowest: 333×333 → 96²).</summary>
    private const double AgreementPsnr = 32;

    private readonly ImageSharpDecoder _decoder = new();
    private readonly SkiaImageDecoder _skia = new();

    protected override IImageDecoder Decoder => _decoder;

    /// <summary>ImageSharp's Identify allocates more than Skia's header read before refusing.</summary>
    protected override long MaxAllocationOnRefusal => 1024 * 1024;

    private byte[] SkiaDecode(byte[] encoded, int size, ResizeMode mode)
    {
        var rgb = new byte[size * size * 3];
        _skia.DecodeResized(encoded, "test.img", size, mode, rgb);
        return rgb;
    }

    [Fact]
    public void An_animated_WebP_it_cannot_read_is_named_as_unsupported_by_this_codec_not_as_corrupt()
    {
        // 8×8, two lossless frames (PIL): Skia decodes its first frame; ImageSharp 2.1 has no animated WebP, and the file had
        // been called "truncated or corrupt" (QA).
        var webp = Convert.FromBase64String("UklGRqwCAABXRUJQVlA4WAoAAAACAAAABwAABwAAQU5JTQYAAAAAAAAAAABBTk1GPAEAAAAAAAAAAAcAAAcAAGQAAAJWUDhMJAEAAC8HwAEA/+E0AAA0mW/4AXSv7voDPOHukLVS5QGqQ2IRd3ePFnmDcds2kpORPPfM/taJBABocmvDobpFokNyaHsAlXXckvsHeIE2i+6S3CVpdYe7+Q9T0nmHIxu1th7WUHiFZLgwVEuLHuAC8iuHSRG1ZCxAXO2o0ecuw4CVserFSAIS7zuRKaHobEdFwq0QG7lvomgWPlhI+dQSyWeINBjC6aAjqNy1iN7FLbZBk2Bj8ftSXr+GmJMHUW/zOFPODNO/warjg4Soc0hCJSZof0g59RK3XDEBIgoQTMKDReIkT0lYzBIvNWAQAADRaLZt2zYi+h/1+FiGtOOfHSxkSp3QT+QTuJkdJ4dOlLhIWcFq8WYej17HTSuMLmI9K8xtPADN6mtBTk1GPAEAAAAAAAAAAAcAAAcAAGQAAABWUDhMIwEAAC8HwAEA/+FGAABCOSM+oGavNj5Rn7BdM9dWfKDVNXVjtu1RY99g3LaN5GQkzz2zv4UqAQDB6tasasVFb8lb2wesbt1M9g/sC1htO9lIrPZ7d/MfXLO91MUsK6l0kgELzyQMBVACBCxXSC9hSFmJ2r9QcXUOBgVadXz9m5IZMt4UelvwIEjK2euX+30xHAwGjYdfVETvKXcFA17iaSEPjHL6aEWjZMIHRdG43DcVYivhznZUhaIiMUa6H5IAVS8MOxOXodHoC652YkGGVgIsSvIrAbgALfpM1ZbhyquMNThtHbKREhwaMAgAgGg027ZtGxH9D4WD07wlDjDx6c1asRfYDfYjM3FsvNi1o1tTn0qHzHC4UBxZ6rnoTmHqGcnhf5kKSgA=");
        var rgb = new byte[8 * 8 * 3];
        _skia.DecodeResized(webp, "anim.webp", 8, ResizeMode.Crop, rgb);
        var e = Assert.Throws<ZetaPrepException>(() => _decoder.DecodeResized(webp, "cat/anim.webp", 8, ResizeMode.Crop, rgb));
        Assert.StartsWith("cat/anim.webp: --codec imagesharp cannot decode this WEBP (", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("); use --codec skia (or auto) for it", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_gives_format_and_size_without_decoding()
    {
        Assert.Equal(new ImageHeader("JPEG", 40, 30), _decoder.ReadHeader(Jpeg(40, 30, (_, _) => Red), "a.jpg"));
        Assert.Equal(new ImageHeader("PNG", 3, 5), _decoder.ReadHeader(Png(3, 5, (_, _) => (1, 2, 3, 255)), "b.png"));
        var gif = Encode(4, 2, Rgba(4, 2, (_, _) => (1, 2, 3, 255)), SKEncodedImageFormat.Png);
        Assert.Equal(_skia.ReadHeader(gif, "g"), _decoder.ReadHeader(gif, "g"));
    }

    [Theory]
    [InlineData(ResizeMode.Crop)]
    [InlineData(ResizeMode.Pad)]
    [InlineData(ResizeMode.Stretch)]
    public void Geometry_agrees_with_skia(ResizeMode mode)
    {
        foreach (var (w, h, seed) in new[] { (1024, 768, 5UL), (500, 900, 6UL), (333, 333, 7UL) })
        {
            var rgb = ResampleQuality.PhotoLike(w, h, seed);
            foreach (var format in new[] { SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg })
            {
                var encoded = ResampleQuality.Encode(rgb, w, h, format);
                foreach (var size in new[] { 224, 96 })
                {
                    double psnr = ResampleQuality.Psnr(Decode(encoded, size, mode), SkiaDecode(encoded, size, mode));
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w}x{h} {format} -> {size} {mode}: {psnr:F1} dB"));
                    Assert.True(psnr >= AgreementPsnr, $"{w}×{h} {format} → {size}² {mode}: {psnr:F1} dB");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Every_exif_orientation_agrees_with_skia(ushort orientation)
    {
        // Stored 240×160 with a red block at the stored top-left: both decoders must put it in the same display corner.
        var jpeg = WithExifOrientation(Jpeg(240, 160, (x, y) => x < 60 && y < 60 ? Red : ((byte)(x / 2), (byte)(y + 40), (byte)90), 95), orientation);
        Assert.Equal(_skia.ReadHeader(jpeg, "o.jpg"), _decoder.ReadHeader(jpeg, "o.jpg"));
        foreach (var mode in new[] { ResizeMode.Crop, ResizeMode.Pad, ResizeMode.Stretch })
        {
            double psnr = ResampleQuality.Psnr(Decode(jpeg, 48, mode), SkiaDecode(jpeg, 48, mode));
            Assert.True(psnr >= 30, $"orientation {orientation} {mode}: {psnr:F1} dB");
        }
    }

    /// <summary>
    /// Skia ignores a PNG's eXIf orientation (the PNG extension calls Exif data historical unless known valid); ImageSharp
    /// applied it, so --codec imagesharp turned such a photo 90° where the default codecs did not (QA).
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(8)]
    public void A_png_exif_orientation_is_ignored_as_skia_ignores_it(ushort orientation)
    {
        var png = PngWithExifOrientation(Png(240, 160, (x, y) => x < 60 && y < 60 ? ((byte)255, (byte)0, (byte)0, (byte)255) : ((byte)(x / 2), (byte)(y + 40), (byte)90, (byte)255)), orientation);
        Assert.Equal(new ImageHeader("PNG", 240, 160), _skia.ReadHeader(png, "o.png"));
        Assert.Equal(_skia.ReadHeader(png, "o.png"), _decoder.ReadHeader(png, "o.png"));
        var rgb = Decode(png, 48, ResizeMode.Stretch);
        Assert.True(ResampleQuality.Psnr(rgb, SkiaDecode(png, 48, ResizeMode.Stretch)) >= 30);
        Assert.Equal((255, 0, 0), ((int, int, int))At(rgb, 48, 2, 2)); // the red block stays at the top left
    }

    [Theory]
    [InlineData("progressive")]
    [InlineData("cmyk")]
    public void Progressive_and_cmyk_jpegs_decode_to_the_right_colours(string kind)
    {
        var bytes = kind == "cmyk" ? OddJpegs.Cmyk : OddJpegs.Progressive;
        Assert.Equal(new ImageHeader("JPEG", 16, 12), _decoder.ReadHeader(bytes, kind));
        var rgb = Decode(bytes, 16, ResizeMode.Stretch);
        Assert.True(Near(At(rgb, 16, 2, 2), (200, 40, 30), 15), $"{At(rgb, 16, 2, 2)}");
        Assert.True(Near(At(rgb, 16, 13, 13), (20, 40, 220), 15), $"{At(rgb, 16, 13, 13)}");
    }

    [Fact]
    public void Truncated_jpeg_is_an_error_naming_the_file()
    {
        var noise = new Random(3);
        var jpeg = Jpeg(256, 256, (x, y) => ((byte)noise.Next(256), (byte)y, (byte)x), 90);
        var ex = Assert.Throws<ZetaPrepException>(() =>
            _decoder.DecodeResized(jpeg.AsSpan(0, jpeg.Length / 2), "photos/cat/3.jpg", 16, ResizeMode.Crop, new byte[16 * 16 * 3]));
        Assert.Equal("photos/cat/3.jpg: truncated or corrupt JPEG data", ex.Message);
        Assert.Equal(1, ex.ExitCode);

        // Cut just before the end-of-image marker: ImageSharp alone would return an image with the last rows missing.
        var nearlyWhole = Assert.Throws<ZetaPrepException>(() =>
            _decoder.DecodeResized(jpeg.AsSpan(0, jpeg.Length - 2), "photos/cat/5.jpg", 16, ResizeMode.Crop, new byte[16 * 16 * 3]));
        Assert.Equal("photos/cat/5.jpg: truncated or corrupt JPEG data", nearlyWhole.Message);

        var header = Assert.Throws<ZetaPrepException>(() => _decoder.ReadHeader(jpeg.AsSpan(0, 12), "photos/cat/4.jpg"));
        Assert.StartsWith("photos/cat/4.jpg: truncated or corrupt JPEG data", header.Message);
    }

    [Fact]
    public void Truncated_or_corrupt_png_is_an_error_naming_the_file()
    {
        var png = Png(64, 64, (x, y) => ((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y), 255));
        foreach (var cut in new[] { png.Length / 2, png.Length - 20, 30 })
        {
            var ex = Assert.Throws<ZetaPrepException>(() => Decode(png[..cut], 16));
            Assert.StartsWith("test.img: truncated or corrupt PNG data", ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
        }
    }

    [Fact]
    public void Limits_are_configurable()
    {
        var strict = new ImageSharpDecoder(new ImageLimits(MaxPixels: 99));
        Assert.Equal(99, strict.Limits.MaxPixels);
        var ex = Assert.Throws<ZetaPrepException>(() =>
            strict.DecodeResized(Png(10, 10, (_, _) => (0, 0, 0, 255)), "p.png", 4, ResizeMode.Crop, new byte[48]));
        Assert.Equal("p.png: 10×10 = 100 pixels exceeds --max-pixels 99", ex.Message);
        Assert.Equal(100_000_000, new ImageSharpDecoder().Limits.MaxPixels);
    }

    [Fact]
    public void Bad_arguments_are_programming_errors()
    {
        var png = Png(4, 4, (_, _) => (0, 0, 0, 255));
        Assert.Throws<ArgumentException>(() => _decoder.DecodeResized(png, "p.png", 4, ResizeMode.Crop, new byte[47]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _decoder.DecodeResized(png, "p.png", 0, ResizeMode.Crop, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => _decoder.DecodeResized(png, "p.png", 4, (ResizeMode)42, new byte[48]));
    }
}
