using SkiaSharp;
using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

public sealed class ResamplerTests
{
    /// <summary>Stored RGBX pixels with smooth colour ramps plus a deterministic texture, so any geometry slip shows.</summary>
    private static byte[] Photo(int w, int h, int stride)
    {
        var px = new byte[stride * h];
        var state = 12345u;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                state = (state * 1664525u) + 1013904223u;
                int noise = (int)(state >> 28) - 8;
                int at = (y * stride) + (x * 4);
                px[at] = (byte)Math.Clamp((255 * x / w) + noise, 0, 255);
                px[at + 1] = (byte)Math.Clamp((255 * y / h) + noise, 0, 255);
                px[at + 2] = (byte)Math.Clamp(128 + (int)(100 * Math.Sin(x / 7.0) * Math.Cos(y / 5.0)), 0, 255);
                px[at + 3] = 255;
            }
        }
        return px;
    }

    /// <summary>The same filter written the obvious way, in doubles, per output pixel: the reference the fast path must match.</summary>
    private static byte[] Reference(byte[] src, int w, int h, int stride, SKEncodedOrigin origin, int size, ResizeMode mode)
    {
        var (winX, winY, region) = Resampler.Geometry(w, h, origin, size, mode);
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int dispW = swap ? h : w, dispH = swap ? w : h;
        var output = new byte[size * size * 3];
        for (int v = 0; v < region.H; v++)
        {
            for (int u = 0; u < region.W; u++)
            {
                var wx = Weights(winX, dispW, region.W, u);
                var wy = Weights(winY, dispH, region.H, v);
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    foreach (var (yd, a) in wy)
                    {
                        foreach (var (xd, b) in wx)
                        {
                            var (xs, ys) = DisplayToStored(xd, yd, w, h, origin);
                            sum += a * b * src[(ys * stride) + (xs * 4) + c];
                        }
                    }
                    output[(((region.Y + v) * size) + region.X + u) * 3 + c] = (byte)Math.Clamp(Math.Round(sum), 0, 255);
                }
            }
        }
        return output;
    }

    private static List<(int Index, double Weight)> Weights((double Start, double Length) window, int length, int outLength, int i)
    {
        double scale = window.Length / outLength, radius = Math.Max(scale, 1);
        double center = window.Start + ((i + 0.5) * scale);
        var taps = new List<(int, double)>();
        for (int j = 0; j < length; j++)
        {
            double t = Math.Abs((j + 0.5 - center) / radius);
            if (t < 1)
            {
                taps.Add((j, 1 - t));
            }
        }
        double total = taps.Sum(t => t.Item2);
        return taps.Select(t => (t.Item1, t.Item2 / total)).ToList();
    }

    private static (int X, int Y) DisplayToStored(int u, int v, int w, int h, SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopRight => (w - 1 - u, v),
        SKEncodedOrigin.BottomRight => (w - 1 - u, h - 1 - v),
        SKEncodedOrigin.BottomLeft => (u, h - 1 - v),
        SKEncodedOrigin.LeftTop => (v, u),
        SKEncodedOrigin.RightTop => (v, h - 1 - u),
        SKEncodedOrigin.RightBottom => (w - 1 - v, h - 1 - u),
        SKEncodedOrigin.LeftBottom => (w - 1 - v, u),
        _ => (u, v),
    };

    public static TheoryData<int, int, int, ResizeMode, SKEncodedOrigin> Cases() => new()
    {
        { 96, 64, 24, ResizeMode.Crop, SKEncodedOrigin.TopLeft },
        { 96, 64, 24, ResizeMode.Pad, SKEncodedOrigin.TopLeft },
        { 96, 64, 24, ResizeMode.Stretch, SKEncodedOrigin.TopLeft },
        { 90, 61, 40, ResizeMode.Crop, SKEncodedOrigin.TopLeft },   // odd sizes, mild downscale (1.5×)
        { 30, 20, 48, ResizeMode.Crop, SKEncodedOrigin.TopLeft },   // upscale: plain bilinear
        { 500, 37, 16, ResizeMode.Pad, SKEncodedOrigin.TopLeft },   // heavy downscale, thin bars
        { 96, 64, 24, ResizeMode.Crop, SKEncodedOrigin.TopRight },
        { 96, 64, 24, ResizeMode.Pad, SKEncodedOrigin.BottomRight },
        { 96, 64, 24, ResizeMode.Stretch, SKEncodedOrigin.BottomLeft },
        { 96, 64, 24, ResizeMode.Pad, SKEncodedOrigin.LeftTop },
        { 96, 64, 24, ResizeMode.Crop, SKEncodedOrigin.RightTop },
        { 80, 50, 24, ResizeMode.Pad, SKEncodedOrigin.RightTop },
        { 96, 64, 24, ResizeMode.Stretch, SKEncodedOrigin.RightBottom },
        { 97, 63, 24, ResizeMode.Pad, SKEncodedOrigin.LeftBottom },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_the_plain_double_precision_filter_within_one_level(int w, int h, int size, ResizeMode mode, SKEncodedOrigin origin)
    {
        int stride = (w * 4) + 12; // padded rows, as decoders may hand them over
        var src = Photo(w, h, stride);
        var fast = new byte[size * size * 3];
        Resampler.Resize(src, w, h, stride, origin, size, mode, fast);
        var reference = Reference(src, w, h, stride, origin, size, mode);
        int worst = fast.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1, $"max |fast − reference| = {worst}");
    }

    [Theory]
    [InlineData(ResizeMode.Crop)]
    [InlineData(ResizeMode.Pad)]
    [InlineData(ResizeMode.Stretch)]
    public void A_flat_colour_stays_exactly_that_colour_and_pad_bars_are_black(ResizeMode mode)
    {
        const int w = 123, h = 45, size = 31;
        var src = new byte[w * h * 4];
        for (int i = 0; i < src.Length; i += 4)
        {
            (src[i], src[i + 1], src[i + 2], src[i + 3]) = ((byte)200, (byte)17, (byte)99, (byte)255);
        }
        var rgb = new byte[size * size * 3];
        Resampler.Resize(src, w, h, w * 4, SKEncodedOrigin.RightTop, size, mode, rgb);
        var (_, _, region) = Resampler.Geometry(w, h, SKEncodedOrigin.RightTop, size, mode);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                bool inside = x >= region.X && x < region.X + region.W && y >= region.Y && y < region.Y + region.H;
                var at = ((y * size) + x) * 3;
                Assert.Equal(inside ? new byte[] { 200, 17, 99 } : [0, 0, 0], rgb.AsSpan(at, 3).ToArray());
            }
        }
    }

    [Fact]
    public void Reused_taps_never_leak_between_shapes()
    {
        // More shapes than a thread keeps taps for, including the same sizes under other orientations, modes and
        // extents, resized interleaved on one thread: each must equal the same resize on a thread that has reused nothing.
        var shapes = new (int W, int H, int Size, ResizeMode Mode, SKEncodedOrigin Origin, double ExtentW)[]
        {
            (96, 64, 24, ResizeMode.Crop, SKEncodedOrigin.TopLeft, 0),
            (64, 96, 24, ResizeMode.Crop, SKEncodedOrigin.TopLeft, 0),
            (96, 64, 24, ResizeMode.Crop, SKEncodedOrigin.LeftTop, 0),
            (96, 64, 24, ResizeMode.Pad, SKEncodedOrigin.TopLeft, 0),
            (96, 64, 20, ResizeMode.Crop, SKEncodedOrigin.TopLeft, 0),
            (96, 64, 24, ResizeMode.Crop, SKEncodedOrigin.TopLeft, 90.5),
            (97, 64, 24, ResizeMode.Stretch, SKEncodedOrigin.TopLeft, 0),
        };
        byte[] Run((int W, int H, int Size, ResizeMode Mode, SKEncodedOrigin Origin, double ExtentW) s)
        {
            var rgb = new byte[s.Size * s.Size * 3];
            Resampler.Resize(Photo(s.W, s.H, s.W * 4), s.W, s.H, s.W * 4, s.Origin, s.Size, s.Mode, rgb, s.ExtentW, s.ExtentW > 0 ? s.H : 0);
            return rgb;
        }
        byte[] Fresh((int W, int H, int Size, ResizeMode Mode, SKEncodedOrigin Origin, double ExtentW) s)
        {
            byte[] result = [];
            var thread = new Thread(() => result = Run(s));
            thread.Start();
            thread.Join();
            return result;
        }
        var expected = shapes.Select(Fresh).ToArray();
        Assert.Equal(shapes.Length, expected.Distinct(new BytesComparer()).Count());
        var order = new[] { 0, 1, 2, 3, 4, 5, 6, 0, 6, 1, 5, 2, 4, 3, 3, 0, 0, 2 };
        foreach (var i in order)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(Run(shapes[i])), $"shape {i} differs after reuse");
        }
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }

    /// <summary>
    /// An image already at the output size passes through unchanged in every mode (the filter's taps are exactly 1 and 0
    /// there), rotated ones included: random noise in every channel, padded rows, sizes that end in SIMD tails.
    /// </summary>
    [Theory]
    [InlineData(28, ResizeMode.Crop, SKEncodedOrigin.TopLeft)]
    [InlineData(1, ResizeMode.Crop, SKEncodedOrigin.TopLeft)]
    [InlineData(5, ResizeMode.Stretch, SKEncodedOrigin.TopLeft)]
    [InlineData(31, ResizeMode.Pad, SKEncodedOrigin.TopLeft)]
    [InlineData(224, ResizeMode.Crop, SKEncodedOrigin.TopLeft)]
    [InlineData(28, ResizeMode.Crop, SKEncodedOrigin.BottomRight)]
    [InlineData(28, ResizeMode.Pad, SKEncodedOrigin.RightTop)]
    public void An_image_at_the_output_size_passes_through_unchanged(int size, ResizeMode mode, SKEncodedOrigin origin)
    {
        int stride = (size * 4) + 8;
        var src = new byte[stride * size];
        new Random(size).NextBytes(src);
        var rgb = new byte[size * size * 3];
        Resampler.Resize(src, size, size, stride, origin, size, mode, rgb);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                // Display pixel (x, y) comes from the stored pixel the orientation maps it to.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.BottomRight => (size - 1 - x, size - 1 - y),
                    SKEncodedOrigin.RightTop => (y, size - 1 - x),
                    _ => (x, y),
                };
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(src[(sy * stride) + (sx * 4) + c], rgb[(((y * size) + x) * 3) + c]);
                }
            }
        }
    }

    [Fact]
    public void Output_of_the_wrong_length_is_refused()
    {
        var src = new byte[8 * 8 * 4];
        Assert.Throws<ArgumentException>(() => Resampler.Resize(src, 8, 8, 32, SKEncodedOrigin.TopLeft, 4, ResizeMode.Crop, new byte[(4 * 4 * 3) - 1]));
        Assert.Throws<ArgumentException>(() => Resampler.Resize(src.AsSpan(0, 100), 8, 8, 32, SKEncodedOrigin.TopLeft, 4, ResizeMode.Crop, new byte[4 * 4 * 3]));
    }
}
