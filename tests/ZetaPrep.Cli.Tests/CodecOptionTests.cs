using System.Text.Json.Nodes;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

/// <summary>--codec and --png-level: recorded in the manifest, compared on resume and merge, and what they do to the bytes.</summary>
public sealed class CodecOptionTests
{
    /// <summary>TurboJPEG is optional; ZETAPREP_REQUIRE_TURBOJPEG=1 (CI) turns its absence into a failure instead of an early return.</summary>
    private static bool TurboAvailable()
    {
        if (Environment.GetEnvironmentVariable("ZETAPREP_REQUIRE_TURBOJPEG") == "1")
        {
            Assert.True(TurboJpegDecoder.IsAvailable, TurboJpegDecoder.UnavailableMessage);
        }
        return TurboJpegDecoder.IsAvailable;
    }

    private static string[] Args(string input, string output, params string[] extra) =>
        ["generate", "--in", input, "--out", output, .. extra.Contains("none") ? [] : new[] { "--n", "2" }, "--batch-size", "4", "--shard-rows", "4", "--quiet", .. extra.Contains("--size") ? extra : ["--size", "16", .. extra]];

    private static JsonNode Options(string output) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(output, GenerationManifest.FileName)))!["options"]!;

    /// <summary>images/*.png of a --format folder output, by name, decoded with Skia.</summary>
    private static Dictionary<string, (byte[] Rgb, long Bytes)> FolderImages(string output) =>
        Directory.GetFiles(Path.Combine(output, "images")).ToDictionary(f => Path.GetFileName(f), f => (PngPixels.Decode(File.ReadAllBytes(f), out _, out _), new FileInfo(f).Length));

    [Fact]
    public async Task Manifest_and_card_record_the_resolved_codec_and_png_level()
    {
        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), 2, 4);
        var r = await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("skia"), "--codec", "skia", "--png-level", "9"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("skia", Options(tmp.Sub("skia"))["codec"]!.GetValue<string>());
        Assert.Equal(9, Options(tmp.Sub("skia"))["png_level"]!.GetValue<int>());
        Assert.Contains("| decoder / PNG zlib level | `skia` / 9 |", File.ReadAllText(Path.Combine(tmp.Sub("skia"), "README.md")), StringComparison.Ordinal);

        // auto names what it resolved to, never "auto".
        var auto = await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("auto")));
        Assert.True(auto.ExitCode == 0, auto.Stderr);
        Assert.Equal(TurboAvailable() ? "turbojpeg" : "skia", Options(tmp.Sub("auto"))["codec"]!.GetValue<string>());
        Assert.Equal(1, Options(tmp.Sub("auto"))["png_level"]!.GetValue<int>());
    }

    [Fact]
    public async Task Resume_with_another_png_level_or_codec_is_refused_naming_it()
    {
        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), 2, 4);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), output, "--codec", "skia"))).ExitCode);

        var level = await CliRunner.RunAsync([.. Args(tmp.Sub("in"), output, "--codec", "skia", "--png-level", "9"), "--resume"]);
        Assert.Equal(2, level.ExitCode);
        Assert.Contains("--png-level differs (manifest 1, now 9)", level.Stderr, StringComparison.Ordinal);
        if (TurboAvailable())
        {
            var codec = await CliRunner.RunAsync([.. Args(tmp.Sub("in"), output, "--codec", "turbojpeg"), "--resume"]);
            Assert.Equal(2, codec.ExitCode);
            Assert.Contains("--resume: --codec differs (manifest skia, now turbojpeg)", codec.Stderr, StringComparison.Ordinal);
            Assert.Single(codec.Stderr.TrimEnd().Split('\n'));
        }
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(tmp.Sub("in"), output, "--codec", "skia"), "--resume"])).ExitCode);
    }

    [Fact]
    public async Task A_manifest_from_before_codec_was_recorded_resumes_as_skia_level_1()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 6);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), output, "--codec", "skia"))).ExitCode);
        var path = Path.Combine(output, GenerationManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.True(manifest["options"]!.AsObject().Remove("codec"));
        Assert.True(manifest["options"]!.AsObject().Remove("png_level"));
        File.WriteAllText(path, manifest.ToJsonString());

        Assert.Equal(("skia", 1), (GenerationManifest.Read(path).Options.Codec, GenerationManifest.Read(path).Options.PngLevel));
        var resumed = await CliRunner.RunAsync([.. Args(tmp.Sub("in"), output, "--codec", "skia"), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
    }

    [Fact]
    public async Task Merge_refuses_workers_with_different_png_levels()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 3, 6);
        var shared = tmp.Sub("shared");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(tmp.Sub("in"), shared, "--codec", "skia"), "--worker", "0/2"])).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(tmp.Sub("in"), shared, "--codec", "skia", "--png-level", "6"), "--worker", "1/2"])).ExitCode);
        var r = await CliRunner.RunAsync("merge", shared);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--png-level differs (manifest.worker-0-of-2.json 1, manifest.worker-1-of-2.json 6)", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Png_level_9_keeps_every_pixel_and_is_no_larger_than_level_1()
    {
        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), 2, 6);
        string[] common = ["--codec", "skia", "--format", "folder", "--size", "48"];
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("l1"), common))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("l9"), [.. common, "--png-level", "9"]))).ExitCode);
        var l1 = FolderImages(tmp.Sub("l1"));
        var l9 = FolderImages(tmp.Sub("l9"));
        Assert.Equal(l1.Keys.Order(StringComparer.Ordinal), l9.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, image) in l1)
        {
            Assert.True(image.Rgb.AsSpan().SequenceEqual(l9[name].Rgb), name);
        }
        Assert.True(l9.Values.Sum(i => i.Bytes) <= l1.Values.Sum(i => i.Bytes));
    }

    [Fact]
    public async Task Turbojpeg_output_is_identical_across_thread_counts_and_close_to_skia()
    {
        if (!TurboAvailable())
        {
            return;
        }

        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), 2, 8);
        string[] common = ["--format", "folder", "--size", "32", "--resize", "pad"];
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("t1"), [.. common, "--codec", "turbojpeg", "--threads", "1"]))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("t4"), [.. common, "--codec", "turbojpeg", "--threads", "4"]))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("skia"), [.. common, "--codec", "skia"]))).ExitCode);

        Assert.Equal(Hashes(tmp.Sub("t1")), Hashes(tmp.Sub("t4")));
        var turbo = FolderImages(tmp.Sub("t1"));
        foreach (var (name, image) in FolderImages(tmp.Sub("skia")))
        {
            double se = 0;
            for (var i = 0; i < image.Rgb.Length; i++)
            {
                var d = image.Rgb[i] - turbo[name].Rgb[i];
                se += d * d;
            }
            Assert.True(se == 0 || 10 * Math.Log10(255.0 * 255.0 * image.Rgb.Length / se) >= 35, $"{name}: turbojpeg and skia differ by more than 35 dB PSNR");
        }

        static Dictionary<string, string> Hashes(string dir) =>
            Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".md", StringComparison.Ordinal))
                .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
    }

    [Fact]
    public async Task Imagesharp_generates_deterministically_and_close_to_skia()
    {
        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), 2, 8);
        string[] common = ["--format", "folder", "--size", "32", "--method", "none"];
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("i1"), [.. common, "--codec", "imagesharp", "--threads", "1"]))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("i2"), [.. common, "--codec", "imagesharp", "--threads", "2"]))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("in"), tmp.Sub("skia"), [.. common, "--codec", "skia"]))).ExitCode);
        Assert.Equal("imagesharp", Options(tmp.Sub("i1"))["codec"]!.GetValue<string>());

        var one = FolderImages(tmp.Sub("i1"));
        var two = FolderImages(tmp.Sub("i2"));
        foreach (var (name, image) in FolderImages(tmp.Sub("skia")))
        {
            Assert.Equal(one[name].Rgb, two[name].Rgb);
            double se = 0;
            for (var i = 0; i < image.Rgb.Length; i++)
            {
                var d = image.Rgb[i] - one[name].Rgb[i];
                se += d * d;
            }
            // Different resize filters (bicubic vs triangle), same geometry: a shifted or flipped image scores far lower.
            Assert.True(se == 0 || 10 * Math.Log10(255.0 * 255.0 * image.Rgb.Length / se) >= 28, $"{name}: imagesharp and skia differ by more than 28 dB PSNR");
        }
    }

    [Fact]
    public async Task Info_lists_the_codecs()
    {
        var r = await CliRunner.RunAsync("info");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("codec skia: available", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(TurboAvailable() ? "codec turbojpeg: available" : "codec turbojpeg: not available", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("codec auto: ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(ZetaPrep.Sources.Libdeflate.IsAvailable ? "zip entries and PNG checks inflate with: libdeflate (libdeflate.so.0)" : "zip entries and PNG checks inflate with: zlib-ng", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_libturbojpeg_auto_falls_back_to_skia_and_turbojpeg_says_how_to_install_it()
    {
        // A fresh process that cannot find the library (the variable names a path that does not exist).
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 3);
        var missing = Path.Combine(tmp.Path, "no-such-libturbojpeg.so.0");

        var turbo = await RunChildAsync(missing, Args(tmp.Sub("in"), tmp.Sub("turbo"), "--codec", "turbojpeg"));
        Assert.Equal(1, turbo.ExitCode);
        Assert.Single(turbo.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("--codec turbojpeg: ", turbo.Stderr, StringComparison.Ordinal);
        Assert.Contains("apt-get install libturbojpeg0", turbo.Stderr, StringComparison.Ordinal);
        Assert.Contains("--codec skia", turbo.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("turbo")));

        var auto = await RunChildAsync(missing, Args(tmp.Sub("in"), tmp.Sub("auto")));
        Assert.True(auto.ExitCode == 0, auto.Stderr);
        Assert.Equal("skia", Options(tmp.Sub("auto"))["codec"]!.GetValue<string>());

        var info = await RunChildAsync(missing, ["info"]);
        Assert.Contains("codec turbojpeg: not available", info.Stdout, StringComparison.Ordinal);
        Assert.Contains("codec auto: skia", info.Stdout, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunChildAsync(string library, string[] args)
    {
        using var child = ChildProcess.Start(new Dictionary<string, string> { [TurboJpegDecoder.LibraryEnvironmentVariable] = library }, args);
        return await child.WaitAsync(TimeSpan.FromMinutes(2));
    }
}
