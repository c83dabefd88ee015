using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

public sealed class BadInputTests
{
    private static void AddBadFiles(string input)
    {
        var good = ImageFixtures.Solid(12, 10, 10, 20, 30);
        File.WriteAllBytes(Path.Combine(input, "class_a", "a_truncated.png"), good[..(good.Length - 20)]);
        File.WriteAllText(Path.Combine(input, "class_b", "b_text.jpg"), "this is not a JPEG");
        // A PNG whose header claims 100000×100000: refused from the header, before any decode.
        var huge = (byte[])good.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(16), 100_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(20), 100_000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(29), System.IO.Hashing.Crc32.HashToUInt32(huge.AsSpan(12, 17)));
        File.WriteAllBytes(Path.Combine(input, "class_b", "c_huge.png"), huge);
    }

    [Fact]
    public async Task OnErrorFail_NamesTheFirstBadFileInListingOrder_AndWritesNothing()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 5);
        AddBadFiles(input);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--threads", "2", "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("class_a/a_truncated.png: truncated PNG", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("2 more bad input(s)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--on-error skip", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public async Task OnErrorSkip_LeavesBadFilesOut_ListsThemWithReasons_AndIsDeterministic()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 5);
        AddBadFiles(input);
        var hashes = new List<string>();
        foreach (var threads in new[] { "1", "2" })
        {
            var output = tmp.Sub("out" + threads);
            var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--threads", threads, "--on-error", "skip", "--quiet");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("skipped 3 bad input(s)", r.Stdout, StringComparison.Ordinal);
            var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
            Assert.Equal(10, manifest.Totals.Rows);
            Assert.Equal(10, manifest.Input.Count);
            Assert.Equal(["class_a/a_truncated.png", "class_b/b_text.jpg", "class_b/c_huge.png"], manifest.Skipped.Select(s => s.Id));
            Assert.StartsWith("truncated PNG", manifest.Skipped[0].Reason, StringComparison.Ordinal);
            Assert.Contains("not an image", manifest.Skipped[1].Reason, StringComparison.Ordinal);
            Assert.Contains("exceeds --max-pixels", manifest.Skipped[2].Reason, StringComparison.Ordinal);
            Assert.Equal("skip", manifest.Options.OnError);
            hashes.Add(manifest.Shards[0].Sha256);
        }
        Assert.Equal(hashes[0], hashes[1]);
    }

    [Theory]
    [InlineData("", "empty file, not an image")]
    [InlineData("hello", "not an image (unrecognised format)")]
    public async Task ADecodersVerdict_ComesWithTheWayOn(string content, string verdict)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 5);
        File.WriteAllText(Path.Combine(input, "class_b", "b_bad.png"), content);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--quiet");
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.EndsWith($"b_bad.png: {verdict}; replace or remove the file, or pass --on-error skip to leave bad inputs out.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreadableInputs_StopTheRunInOneLine_OrAreSkipped()
    {
        // A dangling symbolic link and an unreadable file: bad inputs like a corrupt one, so --on-error skip leaves them out.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 5);
        File.CreateSymbolicLink(Path.Combine(input, "class_a", "a_gone.png"), Path.Combine(tmp.Path, "nowhere.png"));
        Directory.CreateDirectory(Path.Combine(input, "class_b", "b_folder.png")); // a folder named like an image: not read as one
        var fail = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out-fail"), "--size", "8", "--n", "2", "--quiet");
        Assert.Equal(1, fail.ExitCode);
        Assert.Single(fail.Stderr.TrimEnd().Split('\n'));
        Assert.Contains($"a_gone.png: a symbolic link to {Path.Combine(tmp.Path, "nowhere.png")}, which does not exist; fix the link, or mount or restore what it points to.", fail.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out-fail")));

        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--on-error", "skip", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(10, manifest.Totals.Rows);
        Assert.Equal(["class_a/a_gone.png"], manifest.Skipped.Select(s => s.Id));
        Assert.Equal($"a symbolic link to {Path.Combine(tmp.Path, "nowhere.png")}, which does not exist", manifest.Skipped[0].Reason);
    }

    [Theory]
    [InlineData("/dev/zero")] // no end: 2 GiB read before it failed
    [InlineData("/dev/null")]
    public async Task ADeviceWhereAnImageIsListed_IsABadInput_NotRead(string device)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 5);
        File.CreateSymbolicLink(Path.Combine(input, "class_b", "b_device.png"), device);
        var fail = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out-fail"), "--size", "8", "--n", "2", "--quiet");
        Assert.Equal(1, fail.ExitCode);
        var line = Assert.Single(fail.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("b_device.png: it is a character device, not an image file; remove it from the input (or use --on-error skip).", line, StringComparison.Ordinal);

        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--on-error", "skip", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(["class_b/b_device.png"], manifest.Skipped.Select(s => s.Id));
    }

    /// <summary>A FIFO named like an image hung the run with no output, even under --on-error skip (QA).</summary>
    [Fact]
    public async Task AFifoWhereAnImageIsListed_IsABadInput_AndDoesNotHangTheRun()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 5);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(input, "class_a", "stuck.jpg")]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var fail = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out-fail"), "--size", "8", "--n", "2", "--quiet");
        Assert.Equal(1, fail.ExitCode);
        var line = Assert.Single(fail.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("stuck.jpg: it is a FIFO (named pipe) that nothing writes to, not an image file; remove it from the input (or use --on-error skip).", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out-fail")));

        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--on-error", "skip", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["class_a/stuck.jpg"], GenerationManifest.Read(Path.Combine(output, "manifest.json")).Skipped.Select(s => s.Id));
    }

    [Fact]
    public async Task ResumeWithAnotherMaxPixels_UnderSkip_NamesIt_NotTheInput()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        File.WriteAllBytes(Path.Combine(input, "class_a", "big.png"), ImageFixtures.Solid(40, 40, 1, 2, 3));
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--on-error", "skip", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync([.. args, "--max-pixels", "1000"])).ExitCode);
        var r = await CliRunner.RunAsync([.. args, "--max-pixels", "100000", "--resume"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--max-pixels differs (manifest 1000, now 100000)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("the same images, but --on-error skip leaves out others (manifest 8 kept, now 9)", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--in", r.Stderr.Split("(manifest:")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task OddButValidImages_AllWork()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 2);
        // Tiny, non-square, JPEG with an upper-case extension, WebP.
        File.WriteAllBytes(Path.Combine(input, "class_a", "tiny.png"), ImageFixtures.Solid(1, 1, 9, 9, 9));
        File.WriteAllBytes(Path.Combine(input, "class_a", "wide.PNG"), ImageFixtures.Solid(300, 7, 50, 60, 70));
        File.WriteAllBytes(Path.Combine(input, "class_b", "photo.JPEG"), ImageFixtures.Gradient(64, 48, 3, SkiaSharp.SKEncodedImageFormat.Jpeg));
        File.WriteAllBytes(Path.Combine(input, "class_b", "pic.webp"), ImageFixtures.Gradient(20, 30, 4, SkiaSharp.SKEncodedImageFormat.Webp));
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("out"), "--size", "16", "--n", "3", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(8, GenerationManifest.Read(Path.Combine(tmp.Sub("out"), "manifest.json")).Totals.Rows);
    }

    /// <summary>
    /// JPEGs whose scan data stops early yet end in an EOI marker (what the first 30 % of a photo with FF D9 appended
    /// looks like): Skia's libjpeg would pad the missing rows with gray. The validation pass refuses them with every
    /// codec, before any shard is written, and --on-error skip leaves them out. The cut photo needs TurboJPEG's entropy
    /// check (skipped without libturbojpeg0 unless ZETAPREP_REQUIRE_TURBOJPEG=1); the 9000×9000 header over 16×16 data
    /// is caught by the marker walk alone.
    /// </summary>
    /// <summary>A noisy <paramref name="width"/>×<paramref name="height"/> image in <paramref name="format"/> (gif, bmp, webp), written by ImageSharp.</summary>
    private static byte[] Noisy(string format, int width, int height)
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(width, height);
        var random = new Random(format.Length);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = new SixLabors.ImageSharp.PixelFormats.Rgb24((byte)random.Next(256), (byte)(x * 4), (byte)(y * 4));
            }
        }
        using var stream = new MemoryStream();
        image.Save(stream, format switch
        {
#pragma warning disable IDE0072 // the three formats the test uses
            "gif" => new SixLabors.ImageSharp.Formats.Gif.GifEncoder(),
            "bmp" => new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder(),
            _ => (SixLabors.ImageSharp.Formats.IImageEncoder)new SixLabors.ImageSharp.Formats.Webp.WebpEncoder { FileFormat = SixLabors.ImageSharp.Formats.Webp.WebpFileFormatType.Lossless },
#pragma warning restore IDE0072
        });
        return stream.ToArray();
    }

    [Theory]
    [InlineData("gif", "auto")]
    [InlineData("bmp", "auto")]
    [InlineData("webp", "auto")]
    [InlineData("gif", "skia")]
    public async Task Gif_bmp_or_webp_cut_short_is_refused_or_skipped_before_any_shard(string format, string codec)
    {
        // The pass checks PNG and JPEG structure itself; these formats are proved by decoding them in the pass. Before,
        // one cut in half passed it and stopped the run in its batch, shards already written, even under --on-error skip.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        var whole = Noisy(format, 64, 48);
        File.WriteAllBytes(Path.Combine(input, "class_a", $"whole.{format}"), whole);
        File.WriteAllBytes(Path.Combine(input, "class_b", $"cut.{format}"), whole[..(whole.Length / 2)]);
        string[] args = ["generate", "--in", input, "--size", "16", "--n", "2", "--batch-size", "2", "--shard-rows", "2", "--codec", codec, "--quiet"];

        var fail = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("fail")]);
        Assert.Equal(1, fail.ExitCode);
        var line = Assert.Single(fail.Stderr.TrimEnd().Split('\n'));
        Assert.Contains($"class_b/cut.{format}: ", line, StringComparison.Ordinal);
        Assert.Contains("--on-error skip", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("fail")));

        var skip = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("skip"), "--on-error", "skip"]);
        Assert.True(skip.ExitCode == 0, skip.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(tmp.Sub("skip"), "manifest.json"));
        Assert.True(manifest.Complete);
        Assert.Equal([$"class_b/cut.{format}"], manifest.Skipped.Select(s => s.Id));
        Assert.Equal(9, manifest.Input.Count); // 8 solid PNGs and the whole one
    }

    [Theory]
    [InlineData("skia")]
    [InlineData("turbojpeg")]
    [InlineData("imagesharp")]
    public async Task Jpeg_cut_short_but_ending_in_eoi_is_refused_or_skipped_with_every_codec(string codec)
    {
        bool turbo = TurboJpegAvailable();
        if (codec == "turbojpeg" && !turbo)
        {
            return;
        }
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var photo = NoisyJpeg(256, 256);
        byte[] cut = [.. photo.AsSpan(0, photo.Length * 3 / 10), 0xFF, 0xD9];
        var small = NoisyJpeg(16, 16);
        var huge = (byte[])small.Clone();
        var sof = huge.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(sof + 5), 9000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(sof + 7), 9000);
        File.WriteAllBytes(Path.Combine(input, "class_a", "huge.jpg"), huge);
        File.WriteAllBytes(Path.Combine(input, "class_b", "photo.jpg"), photo);
        if (turbo)
        {
            File.WriteAllBytes(Path.Combine(input, "class_a", "cut.jpg"), cut);
        }
        string[] args = ["generate", "--in", input, "--size", "16", "--n", "2", "--codec", codec, "--max-pixels", "100000000", "--quiet"];

        var fail = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("fail")]);
        Assert.Equal(1, fail.ExitCode);
        Assert.Single(fail.Stderr.TrimEnd().Split('\n'));
        // With --codec turbojpeg the pass leaves cut.jpg's scans to the batch's decode (below): huge.jpg, after it, is named.
        Assert.Contains(turbo && codec != "turbojpeg" ? "class_a/cut.jpg: truncated or corrupt JPEG data (libjpeg: premature end of data segment); re-download or remove the file (or pass --on-error skip)." : "class_a/huge.jpg: truncated JPEG (scan 1 holds", fail.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("fail")));

        var skip = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("skip"), "--on-error", "skip"]);
        Assert.True(skip.ExitCode == 0, skip.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(tmp.Sub("skip"), "manifest.json"));
        Assert.Equal(turbo ? ["class_a/cut.jpg", "class_a/huge.jpg"] : ["class_a/huge.jpg"], manifest.Skipped.Select(s => s.Id));
        Assert.Equal(7, manifest.Input.Count); // 6 solid PNGs and the intact photo
        Assert.All(manifest.Skipped, s => Assert.StartsWith("truncated", s.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Jpeg_cut_short_but_ending_in_eoi_stops_a_turbojpeg_run_when_its_batch_decodes_it()
    {
        if (!TurboJpegAvailable())
        {
            return;
        }
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var photo = NoisyJpeg(256, 256);
        File.WriteAllBytes(Path.Combine(input, "class_a", "cut.jpg"), [.. photo.AsSpan(0, photo.Length * 3 / 10), 0xFF, 0xD9]);
        var output = tmp.Sub("out");

        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "16", "--n", "2", "--codec", "turbojpeg", "--quiet");

        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("class_a/cut.jpg: truncated or corrupt JPEG data (libjpeg: premature end of data segment); the run stopped there and removed the shards it had written, from which no run could go on: remove or replace the file and run the command again (adding --on-error skip leaves such files out).", line, StringComparison.Ordinal);
        // Not gray rows in a finished dataset, nor a half-written one that no run can finish (--resume refuses the changed
        // input once the file is removed): the output was new, and nothing of it stays (QA).
        Assert.Empty(Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories));
        // The way the line gives works: the file removed, the same command completes the output.
        File.Delete(Path.Combine(input, "class_a", "cut.jpg"));
        var again = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "16", "--n", "2", "--codec", "turbojpeg", "--quiet");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.True(GenerationManifest.Read(Path.Combine(output, "manifest.json")).Complete);
    }

    /// <summary>
    /// --overwrite removes the output in --out before the first shard: a JPEG the batches would refuse must stop the run
    /// in the validation pass instead, or the run leaves neither output (QA: the old complete dataset was gone and the
    /// new one cut off at the bad file). Also when the file-hash cache holds verdicts from a pass that left the scans
    /// to the batches.
    /// </summary>
    [Fact]
    public async Task Overwrite_checks_jpeg_scans_before_the_old_output_is_removed()
    {
        if (!TurboJpegAvailable())
        {
            return;
        }
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 3);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--size", "16", "--n", "2", "--codec", "turbojpeg", "--quiet"];
        var first = await CliRunner.RunAsync([.. args, "--out", output]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var before = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .ToDictionary(f => f, File.ReadAllBytes);

        var photo = NoisyJpeg(256, 256);
        File.WriteAllBytes(Path.Combine(input, "class_a", "cut.jpg"), [.. photo.AsSpan(0, photo.Length * 3 / 10), 0xFF, 0xD9]);
        // A run into a new directory leaves the scans to its batches, which stop it; the cache keeps that pass's verdicts.
        var elsewhere = await CliRunner.RunAsync([.. args, "--out", tmp.Sub("other")]);
        Assert.Equal(1, elsewhere.ExitCode);
        Assert.Contains("the run stopped there and removed the shards it had written", elsewhere.Stderr, StringComparison.Ordinal);

        var r = await CliRunner.RunAsync([.. args, "--out", output, "--overwrite"]);

        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("class_a/cut.jpg: truncated or corrupt JPEG data (libjpeg: premature end of data segment); re-download or remove the file (or pass --on-error skip).", line, StringComparison.Ordinal);
        var after = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(before.Keys, after);
        Assert.All(after, f => Assert.Equal(before[f], File.ReadAllBytes(f)));
        Assert.True(GenerationManifest.Read(Path.Combine(output, "manifest.json")).Complete);
    }

    private static bool TurboJpegAvailable()
    {
        if (Environment.GetEnvironmentVariable("ZETAPREP_REQUIRE_TURBOJPEG") == "1")
        {
            Assert.True(ZetaPrep.Imaging.TurboJpegDecoder.IsAvailable, ZetaPrep.Imaging.TurboJpegDecoder.UnavailableMessage);
        }
        return ZetaPrep.Imaging.TurboJpegDecoder.IsAvailable;
    }

    /// <summary>A baseline JPEG with photo-like texture, so its scan data is dense.</summary>
    private static byte[] NoisyJpeg(int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor((byte)(x ^ ((x * y * 7) & 63)), (byte)(y ^ ((x + (3 * y)) & 31)), (byte)((((x / 7) + (y / 5)) % 2 * 120) + ((x * y) & 31))));
            }
        }
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }
}
