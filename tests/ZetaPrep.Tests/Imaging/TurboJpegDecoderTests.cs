using ZetaPrep.Imaging;
using static ZetaPrep.Tests.Imaging.ImageFixtures;

namespace ZetaPrep.Tests.Imaging;

/// <summary>
/// TurboJpegDecoder against SkiaImageDecoder: same header, limits, orientation and errors, pixels within a PSNR bound
/// (on this machine they are identical: both run libjpeg-turbo's accurate IDCT and fancy upsampling). Each test returns
/// early without libturbojpeg0 unless ZETAPREP_REQUIRE_TURBOJPEG=1 (CI) makes that a failure.
/// </summary>
public sealed class TurboJpegDecoderTests
{
    private const double MinPsnr = 35;

    private static readonly SkiaImageDecoder Skia = new();

    /// <summary>A 4:2:0 photo-like JPEG: smooth gradients plus fine texture, so scaled IDCT and resampling both matter.</summary>
    private static byte[] Photo(int w, int h, int quality = 85) =>
        Jpeg(w, h, (x, y) => ((byte)((x * 255 / w) ^ ((x * y) & 15)), (byte)(y * 255 / h), (byte)(((x / 7) + (y / 5)) % 2 * 160 + 40)), quality);

    private static (byte[] Turbo, byte[] Skia) DecodeBoth(byte[] jpeg, int size, ResizeMode mode)
    {
        var turbo = new byte[size * size * 3];
        var skia = new byte[size * size * 3];
        Assert.True(new TurboJpegDecoder().TryDecodeTurbo(jpeg, "t.jpg", size, mode, turbo), "TurboJPEG handed a plain JPEG to Skia");
        Skia.DecodeResized(jpeg, "t.jpg", size, mode, skia);
        return (turbo, skia);
    }

    public static TheoryData<int, int, int, ResizeMode> Sizes => new()
    {
        { 300, 200, 64, ResizeMode.Crop },   // DCT scale 3/8
        { 300, 200, 64, ResizeMode.Pad },    // longer side decides: 1/4
        { 300, 200, 64, ResizeMode.Stretch },
        { 257, 131, 100, ResizeMode.Crop },  // odd sizes: partial MCUs, scale 7/8
        { 640, 480, 50, ResizeMode.Crop },   // 1/8
        { 120, 90, 200, ResizeMode.Pad },    // upscale from a full decode
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Decodes_like_skia_for_crop_pad_and_stretch(int w, int h, int size, ResizeMode mode)
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var (turbo, skia) = DecodeBoth(Photo(w, h), size, mode);
        Assert.True(ResampleQuality.Psnr(turbo, skia) >= MinPsnr, $"PSNR {ResampleQuality.Psnr(turbo, skia):F1} dB");
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
    public void Applies_exif_orientation_like_skia(ushort orientation)
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var jpeg = WithExifOrientation(Photo(96, 48), orientation);
        var decoder = new TurboJpegDecoder();
        Assert.Equal(Skia.ReadHeader(jpeg, "o.jpg"), decoder.ReadHeader(jpeg, "o.jpg"));
        foreach (var mode in new[] { ResizeMode.Crop, ResizeMode.Pad, ResizeMode.Stretch })
        {
            var (turbo, skia) = DecodeBoth(jpeg, 40, mode);
            Assert.True(ResampleQuality.Psnr(turbo, skia) >= MinPsnr, $"orientation {orientation} {mode}: PSNR {ResampleQuality.Psnr(turbo, skia):F1} dB");
        }
    }

    [Fact]
    public void A_damaged_jpeg_does_not_push_later_jpegs_on_the_same_thread_to_skia()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        // Damaged headers and scans make TurboJPEG fail part-way; its per-thread decompressor must not stay in that state,
        // or every later JPEG on the thread would silently take the Skia fallback (or the header check would fail).
        var good = Photo(64, 48);
        var decoder = new TurboJpegDecoder();
        var rgb = new byte[16 * 16 * 3];
        var random = new Random(11);
        for (int k = 0; k < 300; k++)
        {
            var bad = (byte[])good.Clone();
            int at = 2 + (k < 150 ? random.Next(Math.Min(600, bad.Length - 2)) : random.Next(bad.Length - 2));
            bad[at] = (byte)random.Next(256);
            if (k % 3 == 0)
            {
                bad = bad[..Math.Max(4, at)];
            }
            _ = Record.Exception(() => decoder.ReadHeader(bad, "bad.jpg"));
            _ = decoder.TryDecodeTurbo(bad, "bad.jpg", 16, ResizeMode.Crop, rgb);
            Assert.True(decoder.TryDecodeTurbo(good, "g.jpg", 16, ResizeMode.Crop, rgb), $"after damaged file {k} (byte {at}): a good JPEG went to Skia");
        }
    }

    [Fact]
    public void Grayscale_and_progressive_jpegs_take_the_turbo_path()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var gray = Encode(64, 48, Rgba(64, 48, (x, y) => ((byte)(x * 4), (byte)(x * 4), (byte)(x * 4), 255)), SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
        foreach (var jpeg in new[] { gray, OddJpegs.Progressive })
        {
            var (turbo, skia) = DecodeBoth(jpeg, 16, ResizeMode.Stretch);
            Assert.True(ResampleQuality.Psnr(turbo, skia) >= MinPsnr);
        }
    }

    [Fact]
    public void Cmyk_jpegs_and_other_formats_go_to_skia_with_identical_output()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var decoder = new TurboJpegDecoder();
        var png = Png(30, 20, (x, y) => ((byte)(x * 8), (byte)(y * 12), 99, 255));
        foreach (var encoded in new[] { OddJpegs.Cmyk, png })
        {
            var viaTurbo = new byte[16 * 16 * 3];
            Assert.False(decoder.TryDecodeTurbo(encoded, "x", 16, ResizeMode.Crop, viaTurbo));
            decoder.DecodeResized(encoded, "x", 16, ResizeMode.Crop, viaTurbo);
            var viaSkia = new byte[16 * 16 * 3];
            Skia.DecodeResized(encoded, "x", 16, ResizeMode.Crop, viaSkia);
            Assert.Equal(viaSkia, viaTurbo);
        }
    }

    [Fact]
    public void Truncated_jpegs_throw_naming_the_file_and_turbo_never_returns_partial_rows()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var decoder = new TurboJpegDecoder();
        var jpeg = Photo(200, 160, 95);
        var rgb = new byte[32 * 32 * 3];
        foreach (var fraction in new[] { 0.4, 0.7, 0.9, 0.99 })
        {
            var cut = jpeg[..(int)(jpeg.Length * fraction)];
            // TJFLAG_STOPONWARNING: TurboJPEG itself refuses (it would otherwise pad the missing rows with gray).
            Assert.False(decoder.TryDecodeTurbo(cut, "cut.jpg", 32, ResizeMode.Crop, rgb));
            var e = Assert.Throws<ZetaPrepException>(() => decoder.DecodeResized(cut, "cut.jpg", 32, ResizeMode.Crop, rgb));
            Assert.Equal("cut.jpg: truncated or corrupt JPEG data", e.Message);
        }
    }

    [Fact]
    public void Bad_headers_and_limits_give_skias_messages()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var decoder = new TurboJpegDecoder(new ImageLimits(1000));
        var rgb = new byte[8 * 8 * 3];
        foreach (var (bytes, name) in new[] { (Photo(50, 40), "big.jpg"), ([], "empty.jpg"), ([0xFF, 0xD8, 0xFF, 0xE0, 0, 2], "head.jpg"), ("hello"u8.ToArray(), "text.jpg") })
        {
            var expected = Assert.Throws<ZetaPrepException>(() => new SkiaImageDecoder(new ImageLimits(1000)).DecodeResized(bytes, name, 8, ResizeMode.Crop, rgb));
            var actual = Assert.Throws<ZetaPrepException>(() => decoder.DecodeResized(bytes, name, 8, ResizeMode.Crop, rgb));
            Assert.Equal(expected.Message, actual.Message);
            Assert.StartsWith(name + ": ", actual.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Is_thread_safe_with_one_handle_per_thread()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }

        var decoder = new TurboJpegDecoder();
        var inputs = Enumerable.Range(0, 6).Select(i => Photo(120 + (i * 17), 90 + (i * 11))).ToArray();
        var expected = inputs.Select(j => { var o = new byte[48 * 48 * 3]; decoder.DecodeResized(j, "x", 48, ResizeMode.Crop, o); return o; }).ToArray();
        // Short-lived threads as well as pool threads: each gets its own handle, released when the thread goes away.
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() => Check(t)) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() => Check(t))));
        threads.ForEach(t => t.Join());

        void Check(int seed)
        {
            var o = new byte[48 * 48 * 3];
            for (var k = 0; k < 60; k++)
            {
                var i = (seed + (k * 5)) % inputs.Length;
                decoder.DecodeResized(inputs[i], "x", 48, ResizeMode.Crop, o);
                Assert.Equal(expected[i], o);
            }
        }
    }

    [Fact]
    public void Codec_factory_resolves_auto_and_names_the_choice()
    {
        Assert.Equal(TurboJpegDecoder.IsAvailable ? CodecChoice.TurboJpeg : CodecChoice.Skia, ImageCodecs.Resolve(CodecChoice.Auto));
        Assert.IsType<SkiaImageDecoder>(ImageCodecs.Create(CodecChoice.Skia, new ImageLimits()));
        Assert.Equal("turbojpeg", ImageCodecs.Name(CodecChoice.TurboJpeg));
        Assert.Equal(CodecChoice.ImageSharp, ImageCodecs.Parse("imagesharp"));
        var e = Assert.Throws<ZetaPrepException>(() => ImageCodecs.Parse("libjpeg"));
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith("--codec: ", e.Message, StringComparison.Ordinal);
        if (TurboJpeg.Available())
        {
            Assert.IsType<TurboJpegDecoder>(ImageCodecs.Create(CodecChoice.Auto, new ImageLimits()));
        }
        else
        {
            var missing = Assert.Throws<ZetaPrepException>(() => ImageCodecs.Create(CodecChoice.TurboJpeg, new ImageLimits()));
            Assert.Contains("apt-get install libturbojpeg0", missing.Message, StringComparison.Ordinal);
        }
    }
}

/// <summary>
/// The shared decoder facts (geometry, EXIF orientation, alpha, upsampling, thread safety) run against TurboJpegDecoder.
/// Without libturbojpeg0 it decodes every file with Skia, so these still test real decoding; CI requires the library.
/// </summary>
public sealed class TurboJpegDecoderContractTests : DecoderContractTests
{
    private readonly IImageDecoder _decoder = TurboJpeg.Available() ? new TurboJpegDecoder() : new SkiaImageDecoder();

    protected override IImageDecoder Decoder => _decoder;
}
