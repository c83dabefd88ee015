using ZetaPrep.Imaging;
using static ZetaPrep.Tests.Imaging.ImageFixtures;

namespace ZetaPrep.Tests.Imaging;

public sealed class SkiaImageDecoderTests : DecoderContractTests
{
    private readonly SkiaImageDecoder _decoder = new();

    protected override IImageDecoder Decoder => _decoder;

    [Fact]
    public void Header_gives_format_and_size_without_decoding()
    {
        var header = _decoder.ReadHeader(Jpeg(40, 30, (_, _) => Red), "a.jpg");
        Assert.Equal(new ImageHeader("JPEG", 40, 30), header);
        Assert.Equal(new ImageHeader("PNG", 3, 5), _decoder.ReadHeader(Png(3, 5, (_, _) => (1, 2, 3, 255)), "b.png"));
    }

    [Fact]
    public void Large_jpeg_decoded_at_reduced_scale_matches_the_lossless_path()
    {
        static (byte, byte, byte) Gradient(int x, int y) => ((byte)(x / 4), (byte)(y / 3), (byte)((x + y) / 7));
        var jpeg = Jpeg(1024, 768, Gradient, 95);
        var png = Png(1024, 768, (x, y) => { var (r, g, b) = Gradient(x, y); return (r, g, b, 255); });
        var fromJpeg = Decode(jpeg, 224);
        var fromPng = Decode(png, 224);
        double meanAbs = fromJpeg.Zip(fromPng, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanAbs < 1.5, $"mean |JPEG − PNG| = {meanAbs:F2}");
    }

    [Fact]
    public void Truncated_jpeg_is_an_error_naming_the_file()
    {
        // Noisy content so the cut lands well inside the entropy-coded scan, not in the tables.
        var noise = new Random(3);
        var jpeg = Jpeg(256, 256, (x, y) => ((byte)noise.Next(256), (byte)y, (byte)x), 90);
        var ex = Assert.Throws<ZetaPrepException>(() =>
            _decoder.DecodeResized(jpeg.AsSpan(0, jpeg.Length / 2), "photos/cat/3.jpg", 16, ResizeMode.Crop, new byte[16 * 16 * 3]));
        Assert.Equal("photos/cat/3.jpg: truncated or corrupt JPEG data", ex.Message);
        Assert.Equal(1, ex.ExitCode);

        var header = Assert.Throws<ZetaPrepException>(() => _decoder.ReadHeader(jpeg.AsSpan(0, 12), "photos/cat/4.jpg"));
        Assert.StartsWith("photos/cat/4.jpg: truncated or corrupt JPEG data", header.Message);
    }

    [Fact]
    public void Limits_are_configurable_and_validated()
    {
        var strict = new SkiaImageDecoder(new ImageLimits(MaxPixels: 99));
        var ex = Assert.Throws<ZetaPrepException>(() =>
            strict.DecodeResized(Png(10, 10, (_, _) => (0, 0, 0, 255)), "p.png", 4, ResizeMode.Crop, new byte[48]));
        Assert.Equal("p.png: 10×10 = 100 pixels exceeds --max-pixels 99", ex.Message);

        Assert.Equal(2, Assert.Throws<ZetaPrepException>(() => new ImageLimits(0)).ExitCode);
        Assert.Throws<ZetaPrepException>(() => new ImageLimits() with { MaxPixels = -1 });
        Assert.Equal(100_000_000, new ImageLimits().MaxPixels);
    }

    [Fact]
    public void Output_buffer_of_the_wrong_length_is_a_programming_error()
    {
        var png = Png(4, 4, (_, _) => (0, 0, 0, 255));
        Assert.Throws<ArgumentException>(() => _decoder.DecodeResized(png, "p.png", 4, ResizeMode.Crop, new byte[47]));
    }
}
