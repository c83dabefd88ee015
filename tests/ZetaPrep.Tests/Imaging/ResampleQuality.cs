using SkiaSharp;
using ZetaPrep.Imaging;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Imaging;

/// <summary>
/// Resampling quality tools shared by the codec tests: photo-like fixtures, a float reference resize with
/// <see cref="Resampler"/>'s geometry (exact area average or antialiased Lanczos-3), and PSNR.
/// </summary>
internal static class ResampleQuality
{
    /// <summary>Every decoder under test, by name; a new codec is one line here.</summary>
    public static TheoryData<string> Decoders => ["skia", "imagesharp", "turbojpeg"];

    /// <summary>The decoder called <paramref name="name"/>, or null when it cannot run on this machine (the test then passes vacuously).</summary>
    public static IImageDecoder? Create(string name) => name switch
    {
        "skia" => new SkiaImageDecoder(),
        "imagesharp" => new ImageSharpDecoder(),
        "turbojpeg" => TurboJpeg.Available() ? new TurboJpegDecoder() : null,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown decoder"),
    };

    public enum Kernel
    {
        /// <summary>Each output pixel is the exact mean of the source area it covers (OpenCV's INTER_AREA, PIL's BOX).</summary>
        Area,

        /// <summary>Lanczos-3 stretched by the downscale factor (PIL's LANCZOS): the sharpest common antialiased filter.</summary>
        Lanczos3,
    }

    /// <summary>
    /// A deterministic photo-like RGB image: a smooth two-axis gradient, fractal value noise with a roughly 1/f spectrum
    /// (texture at every scale down to 2 px), hard-edged discs and bars, and thin dark strokes like hair in a dermoscopy
    /// image (edges and lines alias when a filter is too narrow).
    /// </summary>
    public static byte[] PhotoLike(int w, int h, ulong seed)
    {
        var rng = new DeterministicRandom(seed, 0x9407);
        var planes = new double[3][];
        for (int c = 0; c < 3; c++)
        {
            var plane = new double[w * h];
            double gx = (rng.NextDouble() - 0.5) * 120, gy = (rng.NextDouble() - 0.5) * 120, g0 = 90 + (rng.NextDouble() * 70);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    plane[(y * w) + x] = g0 + (gx * x / w) + (gy * y / h);
                }
            }

            // Octaves of bilinearly interpolated lattice noise, cell 256 px down to 2 px, amplitude ∝ cell^0.4.
            for (int cell = 256; cell >= 2; cell /= 2)
            {
                double amplitude = 6 * Math.Pow(cell, 0.4);
                int gw = (w / cell) + 2, gh = (h / cell) + 2;
                var lattice = new double[gw * gh];
                for (int i = 0; i < lattice.Length; i++)
                {
                    lattice[i] = (rng.NextDouble() - 0.5) * amplitude;
                }

                for (int y = 0; y < h; y++)
                {
                    double fy = (double)y / cell;
                    int iy = (int)fy;
                    double ty = fy - iy;
                    for (int x = 0; x < w; x++)
                    {
                        double fx = (double)x / cell;
                        int ix = (int)fx;
                        double tx = fx - ix;
                        double top = (lattice[(iy * gw) + ix] * (1 - tx)) + (lattice[(iy * gw) + ix + 1] * tx);
                        double bottom = (lattice[((iy + 1) * gw) + ix] * (1 - tx)) + (lattice[((iy + 1) * gw) + ix + 1] * tx);
                        plane[(y * w) + x] += (top * (1 - ty)) + (bottom * ty);
                    }
                }
            }

            planes[c] = plane;
        }

        var rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                rgb[(i * 3) + c] = (byte)Math.Clamp(Math.Round(planes[c][i]), 0, 255);
            }
        }

        // Flat-coloured shapes with hard (unantialiased) edges.
        for (int s = 0; s < 14; s++)
        {
            var colour = new[] { (byte)rng.NextInt(256), (byte)rng.NextInt(256), (byte)rng.NextInt(256) };
            int cx = rng.NextInt(w), cy = rng.NextInt(h);
            int r = 8 + rng.NextInt(Math.Max(9, Math.Min(w, h) / 6));
            bool disc = s % 2 == 0;
            for (int y = Math.Max(0, cy - r); y < Math.Min(h, cy + r); y++)
            {
                for (int x = Math.Max(0, cx - r); x < Math.Min(w, cx + r); x++)
                {
                    bool inside = disc ? ((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) < r * r : Math.Abs(y - cy) < r / 4;
                    if (inside)
                    {
                        colour.CopyTo(rgb, ((y * w) + x) * 3);
                    }
                }
            }
        }

        // Dark hair-like strokes, 1–3 px wide at random angles: the finest detail, and the first to alias.
        for (int s = 0; s < 40; s++)
        {
            double x = rng.NextInt(w), y = rng.NextInt(h), angle = rng.NextDouble() * Math.PI * 2, half = 0.5 + rng.NextDouble();
            byte shade = (byte)(20 + rng.NextInt(60));
            for (int step = 0, length = 100 + rng.NextInt(300); step < length; step++, angle += (rng.NextDouble() - 0.5) * 0.1)
            {
                x += Math.Cos(angle);
                y += Math.Sin(angle);
                for (int dy = (int)Math.Floor(y - half); dy <= (int)Math.Ceiling(y + half); dy++)
                {
                    for (int dx = (int)Math.Floor(x - half); dx <= (int)Math.Ceiling(x + half); dx++)
                    {
                        if (dx >= 0 && dx < w && dy >= 0 && dy < h && ((dx - x) * (dx - x)) + ((dy - y) * (dy - y)) <= half * half)
                        {
                            rgb.AsSpan(((dy * w) + dx) * 3, 3).Fill(shade);
                        }
                    }
                }
            }
        }

        return rgb;
    }

    /// <summary>RGB24 → encoded PNG or JPEG (Skia).</summary>
    public static byte[] Encode(byte[] rgb, int w, int h, SKEncodedImageFormat format, int quality = 95)
    {
        var rgba = new byte[w * h * 4];
        for (int i = 0; i < w * h; i++)
        {
            rgba[i * 4] = rgb[i * 3];
            rgba[(i * 4) + 1] = rgb[(i * 3) + 1];
            rgba[(i * 4) + 2] = rgb[(i * 3) + 2];
            rgba[(i * 4) + 3] = 255;
        }

        return ImageFixtures.Encode(w, h, rgba, format, quality);
    }

    /// <summary>Full-size RGB24 pixels of an encoded image (Skia, no scaling, no colour management): what the reference resize starts from.</summary>
    public static byte[] DecodeFull(byte[] encoded, out int w, out int h)
    {
        using var codec = SKCodec.Create(new MemoryStream(encoded)) ?? throw new ArgumentException("not an image", nameof(encoded));
        (w, h) = (codec.Info.Width, codec.Info.Height);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, out byte[] rgba));
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++)
        {
            rgb[i * 3] = rgba[i * 4];
            rgb[(i * 3) + 1] = rgba[(i * 4) + 1];
            rgb[(i * 3) + 2] = rgba[(i * 4) + 2];
        }

        return rgb;
    }

    /// <summary>
    /// The float reference: <paramref name="rgb"/> (w×h, no EXIF rotation) resized to size² with the geometry of
    /// <see cref="Resampler"/> (crop: centred square; pad: whole-pixel image on black; stretch), separably.
    /// </summary>
    public static double[] Reference(byte[] rgb, int w, int h, int size, ResizeMode mode, Kernel kernel)
    {
        double px, py, ox, oy;
        int x0 = 0, x1 = size, y0 = 0, y1 = size; // output pixels covered by the image; the rest is black
        switch (mode)
        {
            case ResizeMode.Crop:
                {
                    double side = Math.Min(w, h);
                    px = py = size / side;
                    ox = -(w - side) / 2 * px;
                    oy = -(h - side) / 2 * py;
                    break;
                }
            case ResizeMode.Pad:
                {
                    double longest = Math.Max(w, h);
                    int pw = Math.Max(1, (int)Math.Round(w * size / longest));
                    int ph = Math.Max(1, (int)Math.Round(h * size / longest));
                    px = (double)pw / w;
                    py = (double)ph / h;
                    ox = (size - pw) / 2;
                    oy = (size - ph) / 2;
                    (x0, x1, y0, y1) = ((int)ox, (int)ox + pw, (int)oy, (int)oy + ph);
                    break;
                }
            default:
                px = (double)size / w;
                py = (double)size / h;
                ox = oy = 0;
                break;
        }

        var wx = Weights(w, size, px, ox, x0, x1, kernel);
        var wy = Weights(h, size, py, oy, y0, y1, kernel);

        // Horizontal pass: h rows × size columns.
        var mid = new double[h * size * 3];
        for (int y = 0; y < h; y++)
        {
            for (int i = 0; i < size; i++)
            {
                foreach (var (k, weight) in wx[i])
                {
                    int s = ((y * w) + k) * 3, d = ((y * size) + i) * 3;
                    mid[d] += weight * rgb[s];
                    mid[d + 1] += weight * rgb[s + 1];
                    mid[d + 2] += weight * rgb[s + 2];
                }
            }
        }

        var result = new double[size * size * 3];
        for (int j = 0; j < size; j++)
        {
            foreach (var (k, weight) in wy[j])
            {
                for (int i = 0; i < size; i++)
                {
                    int s = ((k * size) + i) * 3, d = ((j * size) + i) * 3;
                    result[d] += weight * mid[s];
                    result[d + 1] += weight * mid[s + 1];
                    result[d + 2] += weight * mid[s + 2];
                }
            }
        }

        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Math.Clamp(result[i], 0, 255);
        }

        return result;
    }

    /// <summary>For each output index, the source indices and normalised weights; none outside [lo, hi) (black bars).</summary>
    private static List<(int Index, double Weight)>[] Weights(int n, int size, double scale, double offset, int lo, int hi, Kernel kernel)
    {
        var table = new List<(int, double)>[size];
        double stretch = Math.Max(1, 1 / scale); // kernel widening when downscaling
        for (int i = 0; i < size; i++)
        {
            var list = new List<(int, double)>();
            table[i] = list;
            if (i < lo || i >= hi)
            {
                continue;
            }

            // Source interval covered by output pixel i, and its centre.
            double a = (i - offset) / scale, b = (i + 1 - offset) / scale, centre = ((a + b) / 2) - 0.5;
            if (kernel == Kernel.Area)
            {
                for (int k = Math.Max(0, (int)Math.Floor(a)); k < Math.Min(n, (int)Math.Ceiling(b)); k++)
                {
                    double overlap = Math.Min(b, k + 1) - Math.Max(a, k);
                    if (overlap > 0)
                    {
                        list.Add((k, overlap));
                    }
                }
            }
            else
            {
                double support = 3 * stretch;
                for (int k = (int)Math.Floor(centre - support); k <= (int)Math.Ceiling(centre + support); k++)
                {
                    double t = (k - centre) / stretch;
                    double weight = Math.Abs(t) >= 3 ? 0 : t == 0 ? 1 : 3 * Math.Sin(Math.PI * t) * Math.Sin(Math.PI * t / 3) / (Math.PI * Math.PI * t * t);
                    if (weight != 0)
                    {
                        list.Add((Math.Clamp(k, 0, n - 1), weight)); // edges replicate the border pixel
                    }
                }
            }

            double total = list.Sum(e => e.Item2);
            for (int e = 0; e < list.Count; e++)
            {
                list[e] = (list[e].Item1, list[e].Item2 / total);
            }
        }

        return table;
    }

    /// <summary>PSNR in dB between two equally long 8-bit buffers (e.g. two decoders' outputs); +∞ when identical.</summary>
    public static double Psnr(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> reference)
    {
        var asDouble = new double[reference.Length];
        for (int i = 0; i < reference.Length; i++)
        {
            asDouble[i] = reference[i];
        }

        return Psnr(actual, asDouble);
    }

    /// <summary>Peak signal-to-noise ratio in dB of 8-bit <paramref name="actual"/> against the float <paramref name="reference"/>.</summary>
    public static double Psnr(ReadOnlySpan<byte> actual, ReadOnlySpan<double> reference)
    {
        Assert.Equal(reference.Length, actual.Length);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - reference[i];
            sum += d * d;
        }

        double mse = sum / actual.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }
}
