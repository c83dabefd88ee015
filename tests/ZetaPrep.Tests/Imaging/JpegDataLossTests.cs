using System.Buffers.Binary;
using SkiaSharp;
using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

/// <summary>
/// JPEGs whose scan data stops early or is corrupt but which still end in an EOI marker: libjpeg fills what is missing
/// with gray and only warns, so they pass a marker walk. The validation check (<see cref="ImageIntegrity"/>) and the
/// TurboJPEG decoder must refuse them, while files with harmless libjpeg warnings decode as before. Cases that need
/// TurboJPEG return early without libturbojpeg0 (unless ZETAPREP_REQUIRE_TURBOJPEG=1).
/// </summary>
public sealed class JpegDataLossTests
{
    /// <summary>A 256² 4:2:0 baseline JPEG with photo-like texture, so its scan data is dense (≈ 30 KB).</summary>
    private static readonly byte[] Photo = ImageFixtures.Jpeg(256, 256, (x, y) =>
        ((byte)((x * 255 / 256) ^ ((x * y * 7) & 63)), (byte)((y * 255 / 256) ^ ((x + (3 * y)) & 31)), (byte)((((x / 7) + (y / 5)) % 2 * 120) + ((x * y) & 31))), quality: 90);

    /// <summary>The first <paramref name="fraction"/> of the file with an EOI marker appended.</summary>
    private static byte[] CutWithEoi(byte[] jpeg, double fraction) => [.. jpeg.AsSpan(0, (int)(jpeg.Length * fraction)), 0xFF, 0xD9];

    /// <summary>The file with <paramref name="count"/> zero bytes between the scan data and its EOI marker (libjpeg: "N extraneous bytes before marker 0xd9").</summary>
    private static byte[] ExtraneousBeforeEoi(byte[] jpeg, int count)
    {
        Assert.True(jpeg[^2] == 0xFF && jpeg[^1] == 0xD9);
        return [.. jpeg.AsSpan(0, jpeg.Length - 2), .. new byte[count], 0xFF, 0xD9];
    }

    private static byte[] Decode(IImageDecoder decoder, byte[] jpeg, int size = 64)
    {
        var rgb = new byte[size * size * 3];
        decoder.DecodeResized(jpeg, "x.jpg", size, ResizeMode.Crop, rgb);
        return rgb;
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.6)]
    [InlineData(0.95)]
    public void Baseline_jpeg_cut_with_an_eoi_marker_is_refused_by_the_check_and_turbojpeg(double fraction)
    {
        if (!TurboJpeg.Available())
        {
            return;
        }
        var cut = CutWithEoi(Photo, fraction);
        ImageIntegrity.Check(Photo, "ok.jpg");

        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(cut, "x.jpg"));
        Assert.Equal("x.jpg: truncated or corrupt JPEG data (libjpeg: premature end of data segment); re-download or remove the file (or pass --on-error skip).", e.Message);
        var d = Assert.Throws<ZetaPrepException>(() => Decode(new TurboJpegDecoder(), cut));
        Assert.Equal(e.Message, d.Message);
        // ImageSharp runs the same check before decoding a JPEG.
        Assert.Contains("x.jpg: truncated or corrupt JPEG data", Assert.Throws<ZetaPrepException>(() => Decode(new ImageSharpDecoder(), cut)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Skia_alone_decodes_a_cut_file_padded_with_gray_which_is_why_the_check_runs_first()
    {
        // The defect this guards against: Skia's libjpeg ignores the warning and returns rows of flat 128 gray.
        var cut = CutWithEoi(Photo, 0.3);
        var rgb = Decode(new SkiaImageDecoder(), cut);
        var lastRow = rgb.AsSpan(rgb.Length - (64 * 3));
        Assert.True(lastRow.IndexOfAnyExcept((byte)128) < 0, "Skia no longer fills the missing rows with gray: revisit the check's comment");
    }

    [Theory]
    [InlineData(1)] // the DC scan
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)] // the last
    public void Progressive_jpeg_cut_inside_a_scan_with_an_eoi_marker_is_refused(int scan)
    {
        if (!TurboJpeg.Available())
        {
            return;
        }
        // Halfway through the scan's entropy-coded data (from after its SOS header to the next marker).
        var p = OddJpegs.Progressive;
        var sos = -1;
        for (var k = 0; k < scan; k++)
        {
            sos = p.AsSpan(sos + 1).IndexOf([(byte)0xFF, (byte)0xDA]) + sos + 1;
        }
        var data = sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(sos + 2));
        var end = data + p.AsSpan(data).IndexOf((byte)0xFF);
        Assert.True(end - data >= 2, $"scan {scan} has {end - data} bytes of data");
        byte[] file = [.. p.AsSpan(0, (data + end) / 2), 0xFF, 0xD9];
        ImageIntegrity.Check(p, "ok.jpg");

        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(file, "p.jpg"));
        Assert.StartsWith("p.jpg: truncated or corrupt JPEG data (libjpeg: ", e.Message, StringComparison.Ordinal);
        Assert.Equal(e.Message.Replace("p.jpg", "x.jpg", StringComparison.Ordinal), Assert.Throws<ZetaPrepException>(() => Decode(new TurboJpegDecoder(), file, 8)).Message);
    }

    [Fact]
    public void Corrupt_scan_data_in_the_middle_is_refused()
    {
        if (!TurboJpeg.Available())
        {
            return;
        }
        // Two bytes in the middle of the scan data turned into a restart marker (FF D3) in a file without restart
        // intervals: the marker walk steps over restart markers, libjpeg stops the scan there and fills the rest.
        var corrupt = (byte[])Photo.Clone();
        Assert.Equal(-1, corrupt.AsSpan().IndexOf([(byte)0xFF, (byte)0xDD])); // no DRI segment
        (corrupt[corrupt.Length / 2], corrupt[(corrupt.Length / 2) + 1]) = (0xFF, 0xD3);
        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(corrupt, "c.jpg"));
        Assert.StartsWith("c.jpg: truncated or corrupt JPEG data (libjpeg: premature end of data segment)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_data_garbled_without_a_marker_is_beyond_the_check()
    {
        // Known limit, pinned so a change shows up: random bytes (no 0xFF) over a tenth of the scan data desynchronise
        // the Huffman decoder, which then finishes the image early and reports only "N extraneous bytes before marker
        // 0xd9", a warning harmless files carry too. Such a file passes, as it did before.
        var garbled = (byte[])Photo.Clone();
        var noise = garbled.AsSpan(garbled.Length / 2, garbled.Length / 10);
        new Random(7).NextBytes(noise);
        noise.Replace((byte)0xFF, (byte)0xFE);
        ImageIntegrity.Check(garbled, "g.jpg");
    }

    [Fact]
    public void Header_claiming_far_more_blocks_than_the_scan_data_holds_is_refused_without_turbojpeg()
    {
        // A 16×16 JPEG whose frame header claims 9000×9000: every 8×8 block codes at least two Huffman codes, so its
        // few hundred bytes of scan data cannot be the whole image. The marker walk says so itself (no TurboJPEG needed).
        var small = ImageFixtures.Jpeg(16, 16, (x, y) => ((byte)(x * 16), (byte)(y * 16), 77), quality: 90);
        var sof = small.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        Assert.True(sof > 0);
        var huge = (byte[])small.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(sof + 5), 9000);
        BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(sof + 7), 9000);

        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(huge, "h.jpg"));
        Assert.Matches(@"^h\.jpg: truncated JPEG \(scan 1 holds [\d,]+ bytes of data; the 9000×9000 frame's blocks need at least [\d,]+\); re-download", e.Message);
        ImageIntegrity.Check(small, "ok.jpg");
    }

    [Fact]
    public void A_component_that_no_scan_codes_is_refused()
    {
        // A grayscale JPEG whose frame header is rewritten to claim three components (YCbCr): its one scan codes only
        // the first, as a sequential file cut between its per-component scans with EOI appended would; libjpeg decodes
        // the others as flat gray without a word.
        var gray = GrayJpeg(24, 16);
        var sof = gray.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        Assert.Equal(1, gray[sof + 9]);
        byte[] component = [gray[sof + 10], gray[sof + 11], gray[sof + 12]];
        var three = new List<byte>(gray.AsSpan(0, sof + 2).ToArray());
        three.AddRange([0, 17, .. gray.AsSpan(sof + 4, 5), 3, .. component, 2, component[1], component[2], 3, component[1], component[2]]);
        three.AddRange(gray.AsSpan(sof + 13).ToArray());

        ImageIntegrity.Check(gray, "ok.jpg");
        var e = Assert.Throws<ZetaPrepException>(() => ImageIntegrity.Check(three.ToArray(), "g.jpg"));
        Assert.StartsWith("g.jpg: truncated JPEG (the image ends after 1 scan(s), before component 2 of 3 is coded)", e.Message, StringComparison.Ordinal);
    }

    private static byte[] GrayJpeg(int w, int h)
    {
        var pixels = new byte[w * h];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 7);
        }
        using var image = SKImage.FromPixelCopy(new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque), pixels);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    [Theory]
    [InlineData(8)]
    [InlineData(37)]
    public void Extraneous_bytes_before_eoi_are_harmless_and_decode_to_the_same_pixels(int count)
    {
        var padded = ExtraneousBeforeEoi(Photo, count);
        ImageIntegrity.Check(padded, "ok.jpg");
        Assert.Equal(Decode(new SkiaImageDecoder(), Photo), Decode(new SkiaImageDecoder(), padded));
        Assert.Equal(Decode(new ImageSharpDecoder(), Photo), Decode(new ImageSharpDecoder(), padded));
        if (!TurboJpeg.Available())
        {
            return;
        }
        // TurboJPEG does stop at this warning (the fixture exercises the harmless branch), hands the file to Skia, and
        // the pixels are those of the clean file.
        Assert.False(new TurboJpegDecoder().TryDecodeTurbo(padded, "ok.jpg", 64, ResizeMode.Crop, new byte[64 * 64 * 3]));
        Assert.Equal(Decode(new TurboJpegDecoder(), Photo), Decode(new TurboJpegDecoder(), padded));
    }

    [Theory]
    [InlineData("Premature end of JPEG file", true)]
    [InlineData("Corrupt JPEG data: premature end of data segment", true)]
    [InlineData("Corrupt JPEG data: bad Huffman code", true)]
    [InlineData("Corrupt JPEG data: bad arithmetic code", true)]
    [InlineData("Corrupt JPEG data: found marker 0xd9 instead of RST3", true)]
    [InlineData("Corrupt JPEG data: 12 extraneous bytes before marker 0xd9", false)]
    [InlineData("Corrupt JPEG data: bad ICC marker", false)]
    [InlineData("Unknown Adobe color transform code 7", false)]
    [InlineData("Warning: unknown JFIF revision number 3.01", false)]
    [InlineData("Invalid SOS parameters for sequential JPEG", false)]
    [InlineData("Inconsistent progression sequence for component 0 coefficient 1", false)]
    public void Libjpeg_warnings_that_lose_image_data_are_told_from_harmless_ones(string message, bool lost) =>
        Assert.Equal(lost, TurboJpegDecoder.IsDataLoss(message));
}
