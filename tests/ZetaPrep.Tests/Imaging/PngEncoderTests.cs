using System.Security.Cryptography;
using SkiaSharp;
using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

public sealed class PngEncoderTests
{
    private static byte[] Noise(int w, int h, int seed)
    {
        var rgb = new byte[w * h * 3];
        new Random(seed).NextBytes(rgb);
        return rgb;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(37, 23)]
    [InlineData(224, 224)]
    public void Decodes_back_to_the_exact_pixels(int w, int h)
    {
        var rgb = Noise(w, h, w * 1000 + h);
        var png = PngEncoder.Encode(rgb, w, h);

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((w, h), (bitmap.Width, bitmap.Height));
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var c = bitmap.GetPixel(x, y);
                int i = ((y * w) + x) * 3;
                Assert.Equal((rgb[i], rgb[i + 1], rgb[i + 2], (byte)255), (c.Red, c.Green, c.Blue, c.Alpha));
            }
        }
    }

    [Fact]
    public void Same_pixels_give_identical_bytes_and_the_stream_overload_matches()
    {
        var rgb = Noise(64, 48, 7);
        var first = PngEncoder.Encode(rgb, 64, 48);
        var second = PngEncoder.Encode(rgb, 64, 48);
        using var stream = new MemoryStream();
        PngEncoder.Encode(rgb, 64, 48, stream);

        Assert.Equal(first, second);
        Assert.Equal(first, stream.ToArray());
    }

    [Theory]
    [InlineData(224, 224, 1)] // noise: every deflate block stored, the longest output
    [InlineData(224, 224, 0)] // photo-like
    [InlineData(1, 1, 0)]
    [InlineData(97, 13, 1)]
    public void Span_overload_writes_the_same_bytes_within_MaxLength_and_leaves_the_rest(int w, int h, int noise)
    {
        var rgb = noise == 1 ? Noise(w, h, 11) : PhotoLike(w, h);
        var expected = PngEncoder.Encode(rgb, w, h);
        var slot = PngEncoder.MaxLength(w, h);
        var buffer = new byte[slot + 7];
        Array.Fill(buffer, (byte)0xAB);
        var length = PngEncoder.Encode(rgb, w, h, buffer.AsSpan(3, slot));
        Assert.Equal(expected.Length, length);
        Assert.Equal(expected, buffer.AsSpan(3, length).ToArray());
        Assert.All(buffer[..3], b => Assert.Equal(0xAB, b)); // nothing written before the slot…
        Assert.All(buffer[(3 + slot)..], b => Assert.Equal(0xAB, b)); // …or after it
        Assert.True(length <= slot);
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(rgb, w, h, new byte[slot - 1]));
    }

    [Fact]
    public void Golden_hash_of_a_fixed_image()
    {
        // Shards promise byte-identical reruns; this pins the bytes so a zlib(-ng) or encoder change is noticed
        // (update the hash deliberately, and say so in the release notes, if the change is intended).
        var rgb = ImageFixtures.Rgb(8, 4, (x, y) => ((byte)(x * 32), (byte)(y * 64), (byte)((x + y) * 16)));
        var png = PngEncoder.Encode(rgb, 8, 4);
        Assert.Equal("b065ad18d45157063538380280bf5b8f399f4dbdbeaf5b1be01516e39601a353", Convert.ToHexStringLower(SHA256.HashData(png)));
    }

    /// <summary>A smooth image with noise, like a resized photo: compressible, but not trivially.</summary>
    private static byte[] PhotoLike(int w, int h) =>
        ImageFixtures.Rgb(w, h, (x, y) => ((byte)(x + (((x * 7) + (y * 13)) % 9)), (byte)(y + ((x * y) % 5)), (byte)((x + y) / 2)));

    [Fact]
    public void Every_level_decodes_back_bit_exactly_and_level_9_is_no_larger_than_level_1()
    {
        var rgb = PhotoLike(96, 80);
        var sizes = new int[PngEncoder.MaxLevel + 1];
        for (var level = 0; level <= PngEncoder.MaxLevel; level++)
        {
            var png = PngEncoder.Encode(rgb, 96, 80, level);
            sizes[level] = png.Length;
            using var bitmap = SKBitmap.Decode(png);
            using var copy = new SKBitmap(new SKImageInfo(96, 80, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            Assert.True(bitmap.CopyTo(copy, SKColorType.Rgba8888));
            var rgba = copy.Bytes;
            Assert.Equal(rgb, rgba.Where((_, i) => i % 4 != 3).ToArray());
        }
        Assert.True(sizes[9] <= sizes[1], $"level 9 {sizes[9]} B > level 1 {sizes[1]} B");
        Assert.True(sizes[0] > sizes[1], "level 0 stores the rows uncompressed");
    }

    [Fact]
    public void Level_1_is_the_default_and_its_bytes_do_not_change()
    {
        var rgb = Noise(40, 30, 3);
        Assert.Equal(PngEncoder.Encode(rgb, 40, 30), PngEncoder.Encode(rgb, 40, 30, PngEncoder.DefaultLevel));
        using var stream = new MemoryStream();
        PngEncoder.Encode(rgb, 40, 30, 1, stream);
        Assert.Equal(PngEncoder.Encode(rgb, 40, 30), stream.ToArray());
        var photo = PhotoLike(40, 30);
        Assert.NotEqual(PngEncoder.Encode(photo, 40, 30), PngEncoder.Encode(photo, 40, 30, 6));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    public void Levels_outside_0_to_9_are_programming_errors(int level) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(new byte[12], 2, 2, level));

    [Fact]
    public void Wrong_buffer_length_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[10], 2, 2));
    }
}
