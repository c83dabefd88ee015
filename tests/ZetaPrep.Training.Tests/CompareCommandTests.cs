using System.Text.Json;
using SkiaSharp;

namespace ZetaPrep.Training.Tests;

public sealed class CompareCommandTests
{
    private static readonly string[] Classes = ["blue", "green"];

    [Fact]
    public async Task Compare_WritesTableJsonChart_AndReusesFinishedRuns()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 6, seed: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 3, seed: 9);
        var outDir = tmp.Sub("cmp");
        string[] args = ["compare", "--in", train, "--val", val, "--methods", "none,zeta", "--seeds", "2", "--epochs", "1", "--size", "16",
            "--batch-size", "4", "--n", "3", "--threads", "2", "--device", "cpu", "--k", "4", "--max-samples", "12", "--out", outDir, "--quiet"];

        var r = await TrainFixtures.RunCliAsync(args);
        Assert.True(r.ExitCode == 0, r.Stderr);

        foreach (var run in new[] { "none-s0", "none-s1", "zeta-s0", "zeta-s1" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, "shards", run, "manifest.json")), run);
            Assert.Single(File.ReadAllLines(Path.Combine(outDir, "runs", run, "metrics.jsonl")));
        }

        var table = File.ReadAllLines(Path.Combine(outDir, "results.md"));
        Assert.Contains("| method | val accuracy | micro-F1 | macro-F1 | D_int | images/s |", table);
        var rows = table.Where(l => l.StartsWith("| none |", StringComparison.Ordinal) || l.StartsWith("| zeta |", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.StartsWith("| none |", rows[0], StringComparison.Ordinal);
        foreach (var row in rows)
        {
            Assert.Equal(7, row.Split('|').Length - 1); // 6 cells
            Assert.Equal(4, row.Split('±').Length - 1); // accuracy, micro-F1, macro-F1, D_int
        }

        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json"))))
        {
            var summaries = doc.RootElement.GetProperty("summaries");
            Assert.Equal(2, summaries.GetArrayLength());
            Assert.Equal("zeta", summaries[1].GetProperty("method").GetString());
            Assert.Equal(2, summaries[1].GetProperty("seeds").GetInt32());
            var acc = summaries[0].GetProperty("accuracy_mean").GetDouble();
            Assert.InRange(acc, 0, 1);
            Assert.InRange(summaries[1].GetProperty("intrinsic_dim_mean").GetDouble(), 1, 3 * 16 * 16);
            Assert.Equal(4, doc.RootElement.GetProperty("runs").GetArrayLength());
        }

        using (var chart = SKBitmap.Decode(Path.Combine(outDir, "results.png")))
        {
            Assert.NotNull(chart);
            Assert.True(chart.Width > 500);
        }

        // A second invocation reuses every finished run and writes the same table.
        var again = await TrainFixtures.RunCliAsync(args);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("4 run(s) (4 reused)", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(table, File.ReadAllLines(Path.Combine(outDir, "results.md")));
    }

    [Fact]
    public async Task Compare_WithOtherSettings_RefusesFinishedRunsInsteadOfReusingThem()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 4, seed: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var outDir = tmp.Sub("cmp");
        string[] Args(string size, string batchSize) => ["compare", "--in", train, "--val", val, "--methods", "none", "--seeds", "1", "--epochs", "1",
            "--size", size, "--batch-size", batchSize, "--threads", "1", "--device", "cpu", "--k", "2", "--max-samples", "4", "--out", outDir, "--quiet"];
        var r = await TrainFixtures.RunCliAsync(Args("16", "4"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var table = File.ReadAllText(Path.Combine(outDir, "results.md"));

        var otherSize = await TrainFixtures.RunCliAsync(Args("8", "4"));
        Assert.Equal(2, otherSize.ExitCode);
        Assert.Single(otherSize.Stderr.Trim().Split('\n'));
        Assert.Contains($"{Path.Combine("shards", "none-s0")} was generated with other settings: --size differs (manifest 16, now 8)", otherSize.Stderr, StringComparison.Ordinal);
        Assert.Contains("another --out", otherSize.Stderr, StringComparison.Ordinal);

        var otherBatch = await TrainFixtures.RunCliAsync(Args("16", "2"));
        Assert.Equal(2, otherBatch.ExitCode);
        Assert.Single(otherBatch.Stderr.Trim().Split('\n'));
        Assert.Contains($"{Path.Combine("runs", "none-s0")} was trained with other settings: --batch-size differs (run 4, now 2)", otherBatch.Stderr, StringComparison.Ordinal);

        // Nothing was redone or relabelled.
        Assert.Equal(table, File.ReadAllText(Path.Combine(outDir, "results.md")));
        Assert.Single(File.ReadAllLines(Path.Combine(outDir, "runs", "none-s0", "metrics.jsonl")));
    }

    [Fact]
    public async Task Compare_AfterTheInputChanged_RefusesItsOldRunsInsteadOfReusingThem()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("trainC");
        TrainFixtures.ColourFolder(train, Classes, perClass: 4, seed: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var outDir = tmp.Sub("cmp");
        string[] args = ["compare", "--in", train, "--val", val, "--methods", "none", "--seeds", "1", "--epochs", "1",
            "--size", "16", "--batch-size", "4", "--threads", "1", "--device", "cpu", "--out", outDir, "--quiet"];
        var r = await TrainFixtures.RunCliAsync(args);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var table = File.ReadAllText(Path.Combine(outDir, "results.md"));

        // One more image under the same --in path: the old runs describe other data.
        TrainFixtures.ColourFolder(tmp.Sub("more"), Classes, perClass: 1, seed: 5);
        File.Copy(Path.Combine(tmp.Sub("more"), "blue", "img000.png"), Path.Combine(train, "blue", "extra.png"));
        var again = await TrainFixtures.RunCliAsync(args);
        Assert.Equal(2, again.ExitCode);
        Assert.Single(again.Stderr.Trim().Split('\n'));
        Assert.Contains($"{Path.Combine("shards", "none-s0")} was made from other training images than --in {train} holds now (8 images, fingerprint ", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("now 9 images", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(table, File.ReadAllText(Path.Combine(outDir, "results.md")));

        // The same number of images with one edited: the fingerprint tells.
        File.Delete(Path.Combine(train, "blue", "extra.png"));
        File.Copy(Path.Combine(tmp.Sub("more"), "green", "img000.png"), Path.Combine(train, "green", "img000.png"), overwrite: true);
        var edited = await TrainFixtures.RunCliAsync(args);
        Assert.Equal(2, edited.ExitCode);
        Assert.Contains("now 8 images", edited.Stderr, StringComparison.Ordinal);

        // With the shards gone, the run's config.json still records what it was trained on.
        Directory.Delete(Path.Combine(outDir, "shards"), recursive: true);
        var noShards = await TrainFixtures.RunCliAsync(args);
        Assert.Equal(2, noShards.ExitCode);
        Assert.Contains($"{Path.Combine("runs", "none-s0")} was made from other training images", noShards.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_KLargerThanTheSample_IsRefusedBeforeAnyWork_AndTheDefaultKFitsSmallInputs()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 4, seed: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        string[] Args(string outDir, params string[] more) => ["compare", "--in", train, "--val", val, "--methods", "none", "--seeds", "1", "--epochs", "1",
            "--size", "16", "--batch-size", "4", "--threads", "1", "--device", "cpu", "--out", outDir, .. more];

        var tooLarge = await TrainFixtures.RunCliAsync(Args(tmp.Sub("c1"), "--k", "100", "--quiet"));
        Assert.Equal(2, tooLarge.ExitCode);
        Assert.Single(tooLarge.Stderr.Trim().Split('\n'));
        Assert.Contains($"--k 100: the intrinsic-dimension check samples 8 image(s) of each method's shards (--in {train} has 8 images", tooLarge.Stderr, StringComparison.Ordinal);
        Assert.Contains("give --k 7 or less", tooLarge.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("c1")));

        // The default k (128) is lowered to what 8 images allow, with a note; results.json records the k used.
        var fitted = await TrainFixtures.RunCliAsync(Args(tmp.Sub("c2")));
        Assert.True(fitted.ExitCode == 0, fitted.Stderr);
        Assert.Contains("k = 7 for the intrinsic-dimension check (not the default 128)", fitted.Stderr, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Sub("c2"), "results.json")));
        Assert.Equal(7, doc.RootElement.GetProperty("options").GetProperty("k").GetInt32());
    }

    [Theory]
    [InlineData("--n", "4")]
    [InlineData("--gamma", "min:4")]
    public async Task Compare_NOrGammaWithoutAZetaMethod_IsAUsageErrorNotIgnored(string option, string value)
    {
        using var tmp = new TempDir();
        var r = await TrainFixtures.RunCliAsync("compare", "--in", tmp.Path, "--val", tmp.Path, "--methods", "none,mixup", option, value, "--out", tmp.Sub("o"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"zetaprep: error: {option}: only the methods with ζ weights (zeta, cutmix+zeta) use it, and --methods none,mixup lists none: drop {option}, or add zeta to --methods.", r.Stderr.Trim());
        Assert.False(Directory.Exists(tmp.Sub("o")));
    }

    [Fact]
    public async Task Compare_IntoADirectoryHoldingOtherFiles_IsRefusedBeforeAnyWork()
    {
        // A generate output given as --out had 9 runs and results written into it (QA).
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 2, seed: 1);
        var output = tmp.Sub("dataset");
        Directory.CreateDirectory(Path.Combine(output, "data"));
        File.WriteAllText(Path.Combine(output, "manifest.json"), "{}");
        var r = await TrainFixtures.RunCliAsync("compare", "--in", train, "--val", train, "--methods", "none", "--out", output);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"zetaprep: error: compare --out {output}: holds data, which compare does not write (it keeps shards/, runs/ and results.* there); choose a new or empty directory, or the --out of an earlier compare to reuse its runs.", r.Stderr.Trim());
        Assert.Equal(["data", "manifest.json"], Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Compare_UnknownMethod_IsOneLineUsageError()
    {
        using var tmp = new TempDir();
        var r = await TrainFixtures.RunCliAsync("compare", "--in", tmp.Path, "--val", tmp.Path, "--methods", "none,bogus", "--out", tmp.Sub("o"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--methods: unknown method 'bogus'", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
