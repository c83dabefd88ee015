using System.Buffers.Binary;
using ZetaPrep.Imaging;
using static ZetaPrep.Tests.Imaging.ImageFixtures;

namespace ZetaPrep.Tests.Imaging;

/// <summary>
/// The behaviour every <see cref="IImageDecoder"/> shares (geometry, PNG colour types, EXIF orientation, alpha on
/// black, upsampling, thread safety): each decoder's test class derives from this and runs these facts against its own decoder.
/// </summary>
public abstract class DecoderContractTests
{
    protected static readonly (byte, byte, byte) Red = (255, 0, 0);
    protected static readonly (byte, byte, byte) Green = (0, 255, 0);
    protected static readonly (byte, byte, byte) Blue = (0, 0, 255);
    protected static readonly (byte, byte, byte) Black = (0, 0, 0);
    protected static readonly (byte, byte, byte) White = (255, 255, 255);
    protected static readonly (byte, byte, byte) Gray = (128, 128, 128);
    protected static readonly (byte, byte, byte, byte) RedA = (255, 0, 0, 255);
    protected static readonly (byte, byte, byte, byte) GreenA = (0, 255, 0, 255);
    protected static readonly (byte, byte, byte, byte) BlueA = (0, 0, 255, 255);

    /// <summary>The decoder under test.</summary>
    protected abstract IImageDecoder Decoder { get; }

    /// <summary>Most bytes a decoder may allocate while refusing a decompression bomb from its header.</summary>
    protected virtual long MaxAllocationOnRefusal => 64 * 1024;

    protected byte[] Decode(byte[] encoded, int size, ResizeMode mode = ResizeMode.Crop)
    {
        var rgb = new byte[size * size * 3];
        Decoder.DecodeResized(encoded, "test.img", size, mode, rgb);
        return rgb;
    }

    protected static bool Near((byte R, byte G, byte B) a, (byte R, byte G, byte B) b, int tolerance) =>
        Math.Abs(a.R - b.R) <= tolerance && Math.Abs(a.G - b.G) <= tolerance && Math.Abs(a.B - b.B) <= tolerance;

    [Fact]
    public void Crop_keeps_the_centre_of_a_wide_image()
    {
        // Thirds red | green | blue: the centred square is exactly the green third.
        var png = Png(300, 100, (x, _) => x < 100 ? RedA : x < 200 ? GreenA : BlueA);
        var rgb = Decode(png, 32);
        for (int y = 0; y < 32; y++)
        {
            for (int x = 1; x < 31; x++)
            {
                Assert.Equal(Green, At(rgb, 32, x, y));
            }
        }
    }

    [Fact]
    public void Pad_leaves_black_bars_above_and_below_a_wide_image()
    {
        var rgb = Decode(Png(200, 100, (_, _) => (255, 255, 255, 255)), 64, ResizeMode.Pad);
        for (int y = 0; y < 64; y++)
        {
            var expected = y is >= 16 and < 48 ? White : Black;
            Assert.Equal(expected, At(rgb, 64, 0, y));
            Assert.Equal(expected, At(rgb, 64, 63, y));
        }
    }

    [Fact]
    public void Pad_leaves_black_bars_left_and_right_of_a_tall_image()
    {
        var rgb = Decode(Png(50, 100, (_, _) => (255, 255, 255, 255)), 64, ResizeMode.Pad);
        Assert.Equal(Black, At(rgb, 64, 15, 32));
        Assert.Equal(White, At(rgb, 64, 16, 32));
        Assert.Equal(White, At(rgb, 64, 47, 32));
        Assert.Equal(Black, At(rgb, 64, 48, 32));
    }

    [Fact]
    public void Grayscale_png_becomes_rgb()
    {
        var raw = new byte[3 * (1 + 2)];
        for (int y = 0; y < 3; y++)
        {
            raw[(y * 3) + 1] = 77;
            raw[(y * 3) + 2] = 77;
        }

        Assert.All(Decode(HandPng(2, 3, 8, 0, raw), 8), b => Assert.Equal(77, b));
    }

    [Fact]
    public void Palette_png_becomes_rgb()
    {
        // 4×2, indices 0 0 1 1 per row; palette: red, blue.
        byte[] raw = [0, 0, 0, 1, 1, 0, 0, 0, 1, 1];
        var png = HandPng(4, 2, 8, 3, raw, palette: [255, 0, 0, 0, 0, 255]);
        var rgb = Decode(png, 8, ResizeMode.Stretch);
        Assert.Equal(Red, At(rgb, 8, 0, 0));
        Assert.Equal(Blue, At(rgb, 8, 7, 7));
    }

    [Fact]
    public void Sixteen_bit_png_becomes_8_bit_rgb()
    {
        // 2×2 RGB at 16 bits per channel, every sample 0xABCD.
        var raw = new byte[2 * (1 + 12)];
        for (int y = 0; y < 2; y++)
        {
            for (int i = 0; i < 6; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(raw.AsSpan((y * 13) + 1 + (i * 2)), 0xABCD);
            }
        }

        var png = HandPng(2, 2, 16, 2, raw);
        Assert.Equal(new ImageHeader("PNG", 2, 2), Decoder.ReadHeader(png, "deep.png"));
        Assert.All(Decode(png, 4), b => Assert.InRange(b, 0xAB - 1, 0xAB + 1));
    }

    [Fact]
    public void Random_bytes_and_empty_files_are_not_images()
    {
        var noise = new byte[500];
        new Random(1).NextBytes(noise);
        var ex = Assert.Throws<ZetaPrepException>(() => Decoder.ReadHeader(noise, "x/noise.jpg"));
        Assert.Equal("x/noise.jpg: not an image (unrecognised format)", ex.Message);
        Assert.Equal("x/noise.jpg: not an image (unrecognised format)",
            Assert.Throws<ZetaPrepException>(() => Decoder.DecodeResized(noise, "x/noise.jpg", 8, ResizeMode.Crop, new byte[192])).Message);

        Assert.StartsWith("test.img: empty file", Assert.Throws<ZetaPrepException>(() => Decode([], 8)).Message);
        Assert.StartsWith("e.png: empty file", Assert.Throws<ZetaPrepException>(() => Decoder.ReadHeader([], "e.png")).Message);
    }

    [Fact]
    public void Stretch_keeps_both_halves()
    {
        var rgb = Decode(Png(200, 100, (x, _) => x < 100 ? RedA : BlueA), 64, ResizeMode.Stretch);
        Assert.Equal(Red, At(rgb, 64, 0, 0));
        Assert.Equal(Red, At(rgb, 64, 30, 63));
        Assert.Equal(Blue, At(rgb, 64, 33, 0));
        Assert.Equal(Blue, At(rgb, 64, 63, 63));
    }

    [Fact]
    public void Exif_orientation_6_rotates_clockwise()
    {
        // Stored 40×20 with a red block at the stored top-left; orientation 6 shows it at the top-right of a 20×40 image.
        var jpeg = WithExifOrientation(Jpeg(40, 20, (x, y) => x < 10 && y < 10 ? Red : Gray), 6);
        Assert.Equal(new ImageHeader("JPEG", 20, 40), Decoder.ReadHeader(jpeg, "r.jpg"));

        var rgb = Decode(jpeg, 32, ResizeMode.Stretch);
        Assert.True(Near(At(rgb, 32, 31, 0), Red, 40), $"top-right {At(rgb, 32, 31, 0)}");
        Assert.True(Near(At(rgb, 32, 0, 0), (128, 128, 128), 40), $"top-left {At(rgb, 32, 0, 0)}");
        Assert.True(Near(At(rgb, 32, 31, 31), (128, 128, 128), 40), $"bottom-right {At(rgb, 32, 31, 31)}");
    }

    [Fact]
    public void Transparent_pixels_become_black_and_alpha_composites_on_black()
    {
        Assert.All(Decode(Png(8, 8, (_, _) => (255, 255, 255, 0)), 16), b => Assert.Equal(0, b));

        var half = At(Decode(Png(8, 8, (_, _) => (200, 100, 50, 128)), 16), 16, 8, 8);
        Assert.True(Near(half, (100, 50, 25), 1), $"{half}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    public void Tiny_images_are_upsampled(int w, int h)
    {
        var rgb = Decode(Png(w, h, (_, _) => (10, 20, 30, 255)), 24);
        for (int i = 0; i < rgb.Length; i += 3)
        {
            Assert.Equal((10, 20, 30), (rgb[i], rgb[i + 1], rgb[i + 2]));
        }
    }

    [Fact]
    public void Concurrent_decodes_give_identical_bytes()
    {
        byte[][] inputs =
        [
            Jpeg(640, 480, (x, y) => ((byte)x, (byte)y, (byte)(x ^ y)), 90),
            Png(300, 200, (x, y) => ((byte)(x * 3), (byte)(y * 5), 7, (byte)(x + y))),
            WithExifOrientation(Jpeg(120, 80, (x, y) => ((byte)(x * 2), 50, (byte)(y * 3)), 90), 8),
        ];
        var modes = new[] { ResizeMode.Crop, ResizeMode.Pad, ResizeMode.Stretch };
        var expected = inputs.SelectMany(i => modes.Select(m => Decode(i, 64, m))).ToArray();

        var actual = new byte[200][];
        Parallel.For(0, actual.Length, k =>
        {
            var rgb = new byte[64 * 64 * 3];
            Decoder.DecodeResized(inputs[k % 9 / 3], $"img{k}", 64, modes[k % 3], rgb);
            actual[k] = rgb;
        });

        for (int k = 0; k < actual.Length; k++)
        {
            Assert.Equal(expected[(k % 9 / 3 * 3) + (k % 3)], actual[k]);
        }
    }

    [Fact]
    public void Huge_header_is_refused_before_decoding_with_little_memory()
    {
        // Claims 100000×100000 RGB (30 GB decoded) with a 1-row IDAT.
        var png = HandPng(100_000, 100_000, 8, 2, new byte[1 + 300_000]);
        var rgb = new byte[16 * 16 * 3];
        _ = Assert.Throws<ZetaPrepException>(() => Decoder.DecodeResized(png, "bomb.png", 16, ResizeMode.Crop, rgb)); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<ZetaPrepException>(() => Decoder.DecodeResized(png, "bomb.png", 16, ResizeMode.Crop, rgb));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("bomb.png: 100000×100000 = 10,000,000,000 pixels exceeds --max-pixels 100,000,000", ex.Message);
        Assert.True(allocated < MaxAllocationOnRefusal, $"allocated {allocated} bytes");
    }
}
