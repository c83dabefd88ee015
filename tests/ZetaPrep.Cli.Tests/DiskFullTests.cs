using System.Security.Cryptography;
using SkiaSharp;
using Xunit.Abstractions;
using ZetaPrep.Manifests;
using ZetaPrep.TestSupport;

namespace ZetaPrep.Cli.Tests;

/// <summary>
/// A real full disk: a small tmpfs mounted for the test (needs root, as on the dev machines and CI; without it the test
/// says so and returns). Generation must fail with one line, leave no half shard or temp file, keep every finished
/// shard valid, and --resume after space is freed must end byte-identical to a run that never failed.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DiskFull_LeavesNoHalfShard_AndResumeFinishesIdentically()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        NoiseFolder(input, classes: 2, perClass: 16);
        string[] options = ["--size", "48", "--n", "3", "--batch-size", "4", "--shard-rows", "4", "--threads", "2", "--quiet"];

        var clean = tmp.Sub("clean");
        Assert.Equal(0, (await CliRunner.RunAsync(["generate", "--in", input, "--out", clean, .. options])).ExitCode);
        var cleanHashes = Hashes(clean);
        Assert.Equal(8, cleanHashes.Count);

        // 8 shards of ~28 KB each: 120 KB fits about four of them plus the manifest.
        using var disk = SmallTmpfs.TryMount(tmp.Path, "120k");
        if (disk is null)
        {
            output.WriteLine("not run: mounting a tmpfs needs root");
            return;
        }
        var mount = disk.Path;
        var outDir = Path.Combine(mount, "out");
        var full = await CliRunner.RunAsync(["generate", "--in", input, "--out", outDir, .. options]);
        Assert.Equal(1, full.ExitCode);
        Assert.Single(full.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("No space left on device", full.Stderr, StringComparison.Ordinal);
        Assert.Contains("--resume", full.Stderr, StringComparison.Ordinal);
        // No temporary file; the only hidden file is the validation pass's record, which the resume below reuses.
        Assert.Equal([Path.Combine(outDir, ".zetaprep-validated.jsonl")], Directory.EnumerateFiles(outDir, ".*", SearchOption.AllDirectories));
        var manifest = GenerationManifest.Read(Path.Combine(outDir, "manifest.json"));
        Assert.False(manifest.Complete);
        Assert.InRange(manifest.Shards.Count, 1, 7);
        // Every shard file on disk is a finished one, listed with its exact hash.
        var written = Hashes(outDir);
        Assert.Equal(manifest.Shards.Select(s => s.File).Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
        Assert.All(manifest.Shards, s => Assert.Equal(s.Sha256, written[s.File]));
        Assert.All(written, kv => Assert.Equal(cleanHashes[kv.Key], kv.Value));

        Assert.True(disk.Resize("4m"));
        var resumed = await CliRunner.RunAsync(["generate", "--in", input, "--out", outDir, .. options, "--resume", "--profile"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(cleanHashes, Hashes(outDir));
        Assert.True(GenerationManifest.Read(Path.Combine(outDir, "manifest.json")).Complete);
        Assert.Contains("the resumed run's verdicts on 32 input(s)", resumed.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(outDir, ".*", SearchOption.AllDirectories));
    }

    /// <summary>Every format deletes the shard in progress when the disk fills (WebDataset once left its temp tar behind, using the space).</summary>
    [Theory]
    [InlineData("webdataset")]
    [InlineData("folder")]
    public async Task DiskFull_LeavesNoTempFile_InEveryFormat(string format)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        NoiseFolder(input, classes: 2, perClass: 16);
        using var disk = SmallTmpfs.TryMount(tmp.Path, "120k");
        if (disk is null)
        {
            output.WriteLine("not run: mounting a tmpfs needs root");
            return;
        }
        var mount = disk.Path;
        var outDir = Path.Combine(mount, "out");
        var full = await CliRunner.RunAsync("generate", "--in", input, "--out", outDir, "--format", format, "--size", "48", "--n", "3", "--batch-size", "4", "--shard-rows", "4", "--threads", "2", "--quiet");
        Assert.Equal(1, full.ExitCode);
        var line = Assert.Single(full.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("No space left on device", line, StringComparison.Ordinal);
        Assert.Contains("the shard in progress was discarded", line, StringComparison.Ordinal);
        Assert.Equal([Path.Combine(outDir, ".zetaprep-validated.jsonl")], Directory.EnumerateFiles(outDir, ".*", SearchOption.AllDirectories));
    }

    private static Dictionary<string, string> Hashes(string outDir) =>
        Directory.EnumerateFiles(Path.Combine(outDir, "data"), "*.parquet")
            .ToDictionary(f => "data/" + Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));

    private static void NoiseFolder(string root, int classes, int perClass)
    {
        var rng = new Random(5);
        for (var c = 0; c < classes; c++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"c{c}"));
            for (var k = 0; k < perClass; k++)
            {
                using var bitmap = new SKBitmap(new SKImageInfo(48, 48, SKColorType.Rgba8888, SKAlphaType.Opaque));
                var pixels = new byte[48 * 48 * 4];
                rng.NextBytes(pixels);
                for (var i = 3; i < pixels.Length; i += 4)
                {
                    pixels[i] = 255;
                }
                System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, $"c{c}", $"{k:D2}.png"), data.ToArray());
            }
        }
    }

    [Fact]
    public async Task AnOutputThatCannotBeWritten_FailsBeforeAnyShard_WithoutPromisingAResume()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        NoiseFolder(input, classes: 2, perClass: 4);
        // Read-only even for root (a permission bit is not).
        using var disk = SmallTmpfs.TryMount(tmp.Path, "64k", readOnly: true, name: "readonly");
        if (disk is null)
        {
            output.WriteLine("not run: mounting a tmpfs needs root");
            return;
        }
        var line = await GenerateThatWritesNothing(input, disk.Path);
        Assert.DoesNotContain("--resume", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestThatCannotBeWritten_FailsBeforeAnyShard_AndLeavesNoFile()
    {
        // Room for the output folder and its lock, not for the manifest that says "incomplete": the batches start while
        // that manifest is written, and the run must still fail as one that wrote nothing, with no shard and no temp file.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        NoiseFolder(input, classes: 2, perClass: 4);
        using var disk = SmallTmpfs.TryMount(tmp.Path, "1m", name: "noinodes", inodes: 3);
        if (disk is null)
        {
            output.WriteLine("not run: mounting a tmpfs needs root");
            return;
        }
        var line = await GenerateThatWritesNothing(input, Path.Combine(disk.Path, "out"));
        Assert.Contains(".manifest.json.tmp-", line, StringComparison.Ordinal);
        Assert.Empty(disk.AllFiles());
    }

    /// <summary>Runs generate into <paramref name="outDir"/>, which it cannot write; returns its one error line, checked to say that it wrote nothing.</summary>
    private static async Task<string> GenerateThatWritesNothing(string input, string outDir)
    {
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", outDir, "--size", "16", "--n", "2", "--quiet");
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains($"--out {outDir}: cannot write (", line, StringComparison.Ordinal);
        Assert.EndsWith("this run wrote nothing: fix the folder's permissions or free space, or choose another --out.", line, StringComparison.Ordinal);
        return line;
    }
}
