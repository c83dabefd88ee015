using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

public sealed class OddJpegDecodeTests
{
    [Theory]
    [InlineData("progressive")]
    [InlineData("cmyk")]
    public void Progressive_and_cmyk_jpegs_decode_to_the_right_colours(string kind)
    {
        var bytes = kind == "cmyk" ? OddJpegs.Cmyk : OddJpegs.Progressive;
        var decoder = new SkiaImageDecoder();
        Assert.Equal((16, 12), (decoder.ReadHeader(bytes, kind).Width, decoder.ReadHeader(bytes, kind).Height));
        var rgb = new byte[16 * 16 * 3];
        decoder.DecodeResized(bytes, kind, 16, ResizeMode.Stretch, rgb);
        var topLeft = ImageFixtures.At(rgb, 16, 2, 2);
        var bottomRight = ImageFixtures.At(rgb, 16, 13, 13);
        // Pillow's own decode gives (200, 40, 30) and (20, 40, 220); JPEG loss and resampling allow a small margin.
        Assert.InRange(topLeft.R, 185, 215);
        Assert.InRange(topLeft.G, 25, 55);
        Assert.InRange(topLeft.B, 15, 45);
        Assert.InRange(bottomRight.R, 5, 35);
        Assert.InRange(bottomRight.G, 25, 55);
        Assert.InRange(bottomRight.B, 205, 235);
    }
}
