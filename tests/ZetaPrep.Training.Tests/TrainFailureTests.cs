using System.Text.Json;

namespace ZetaPrep.Training.Tests;

/// <summary>How train and compare fail: bad numbers, write errors, divergence; one line each, and nothing half-written.</summary>
public sealed class TrainFailureTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    [Theory]
    [InlineData("--lr", "1e300", "--lr must be a number from 1e-10 to 1000 (got 1e300)")]
    [InlineData("--lr", "1e30", "--lr must be a number from 1e-10 to 1000 (got 1e30)")]
    [InlineData("--lr", "0", "--lr must be a number from 1e-10 to 1000 (got 0)")]
    [InlineData("--lr", "NaN", "--lr must be a number from 1e-10 to 1000 (got NaN)")]
    [InlineData("--weight-decay", "1e39", "--weight-decay must be a number from 0 to 1 (got 1e39)")]
    [InlineData("--weight-decay", "-0.1", "--weight-decay must be a number from 0 to 1 (got -0.1)")]
    [InlineData("--warmup-epochs", "1e300", "--warmup-epochs must be a number from 0 to 10000 (got 1e300)")]
    [InlineData("--epochs", "99999999999", "--epochs: must be an integer from 1 to 2147483647 (got '99999999999')")]
    [InlineData("--batch-size", "100000", "--batch-size must be from 2 to 65536 (got 100000)")]
    [InlineData("--batch-size", "1", "--batch-size must be from 2 to 65536 (got 1)")]
    public async Task Train_NumberOutsideItsRange_IsOneLineUsageErrorBeforeAnyWork(string option, string value, string expected)
    {
        using var tmp = new TempDir();
        var run = tmp.Sub("run");
        var r = await TrainFixtures.RunCliAsync("train", "--data", tmp.Sub("none"), "--val", tmp.Sub("none"), "--out", run, option, value, "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public async Task Train_DiskFullWhileSavingAnEpoch_SaysSoRemovesTempsAndStaysResumable()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // No way to simulate a full disk here.
        }

        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        string[] Train(int epochs, bool resume) => ["train", "--data", shards, "--val", val, "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--size", "16", "--batch-size", "8", "--threads", "1", "--device", "cpu", "--out", run, "--quiet", .. (resume ? new[] { "--resume" } : [])];

        // The first epoch's save hits a full disk: one line, nothing left behind, and the same command then works.
        Directory.CreateDirectory(run);
        var full = Path.Combine(run, $"last.pt.tmp-{Environment.ProcessId}");
        File.CreateSymbolicLink(full, "/dev/full");
        var first = await TrainFixtures.RunCliAsync(Train(1, resume: false));
        Assert.Equal(1, first.ExitCode);
        Assert.Single(first.Stderr.Trim().Split('\n'));
        Assert.Contains($"--out {run}: cannot save epoch 1 (", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("No space left on device", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was saved", first.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(run));

        var ok = await TrainFixtures.RunCliAsync(Train(1, resume: false));
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        var metrics = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));
        var last = File.ReadAllBytes(Path.Combine(run, "last.pt"));
        var state = File.ReadAllText(Path.Combine(run, "last.json"));

        // Epoch 2's save hits a full disk: epoch 1 stays in force (metrics do not claim epoch 2), and --resume continues.
        File.CreateSymbolicLink(full, "/dev/full");
        var second = await TrainFixtures.RunCliAsync(Train(2, resume: true));
        Assert.Equal(1, second.ExitCode);
        // Besides the error, only the note that --epochs 2 re-spreads the 1-epoch run's schedule.
        Assert.Single(second.Stderr.Trim().Split('\n'), line => !line.StartsWith("zetaprep: note: --epochs 2 changes the run's 1 epochs", StringComparison.Ordinal));
        Assert.Contains("cannot save epoch 2", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("epochs 1–1 stay saved there", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("--resume", second.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(run, "*.tmp-*"));
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(run, "metrics.jsonl")));
        Assert.Equal(last, File.ReadAllBytes(Path.Combine(run, "last.pt")));
        Assert.Equal(state, File.ReadAllText(Path.Combine(run, "last.json")));

        var resumed = await TrainFixtures.RunCliAsync(Train(2, resume: true));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal([1, 2], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("epoch").GetInt32()));
    }

    [Fact]
    public async Task TrainAndCompare_OutThatCannotBeCreated_IsOneLineNamingIt()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var file = tmp.Sub("a-file");
        File.WriteAllText(file, "not a directory");

        var train = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--device", "cpu", "--out", Path.Combine(file, "run"), "--quiet");
        Assert.Equal(1, train.ExitCode);
        Assert.Single(train.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"zetaprep: error: --out {Path.Combine(file, "run")}: cannot create the run directory", train.Stderr, StringComparison.Ordinal);

        var compare = await TrainFixtures.RunCliAsync("compare", "--in", Path.Combine(tmp.Path, "images"), "--val", val, "--methods", "none", "--seeds", "1", "--epochs", "1",
            "--size", "16", "--device", "cpu", "--out", Path.Combine(file, "cmp"), "--quiet");
        Assert.Equal(1, compare.ExitCode);
        Assert.Single(compare.Stderr.Trim().Split('\n'));
        Assert.Contains($"compare --out {Path.Combine(file, "cmp")}: cannot create the directory", compare.Stderr, StringComparison.Ordinal);
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    [Fact]
    public async Task Train_Diverging_StopsWithOneLineAndLeavesNoRunBehind()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("p6");
        // lr 1000 without warm-up overflows a ResNet's weights within the first steps.
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "2", "--lr", "1000", "--warmup-epochs", "0",
            "--size", "16", "--batch-size", "4", "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("zetaprep: error: training diverged: the ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("epoch 1", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("a lower --lr (now 1000).", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run), "a run that saved no epoch leaves nothing behind");
    }

    [Fact]
    public async Task Train_FailingBeforeItsFirstEpoch_LeavesNothingNew()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var garbage = tmp.Sub("garbage.pt");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8]);
        var run = Path.Combine(tmp.Sub("new"), "deeper", "run");
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--pretrained", garbage,
            "--size", "16", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("garbage.pt", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("new")));

        // A corrupt validation image: the existing (empty) --out stays as it was.
        var existing = tmp.Sub("existing");
        Directory.CreateDirectory(existing);
        File.WriteAllBytes(Path.Combine(val, "red", "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var bad = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--device", "cpu", "--out", existing, "--quiet");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
        Assert.Contains("broken.png", bad.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(existing));
    }

    [Fact]
    public async Task Train_DataGivenTwiceOrOutInsideData_IsRefused()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);

        var twice = await TrainFixtures.RunCliAsync("train", "--data", shards, shards + "/", "--val", val, "--epochs", "1", "--device", "cpu", "--out", tmp.Sub("r1"), "--quiet");
        Assert.Equal(2, twice.ExitCode);
        Assert.Single(twice.Stderr.Trim().Split('\n'));
        Assert.Contains($"--data lists {shards} twice", twice.Stderr, StringComparison.Ordinal);

        var copy = tmp.Sub("copy");
        CopyDirectory(shards, copy);
        var same = await TrainFixtures.RunCliAsync("train", "--data", shards, copy, "--val", val, "--epochs", "1", "--device", "cpu", "--out", tmp.Sub("r2"), "--quiet");
        Assert.Equal(2, same.ExitCode);
        Assert.Contains($"--data {copy}: holds the same shards as {shards}", same.Stderr, StringComparison.Ordinal);

        foreach (var inside in new[] { shards, Path.Combine(shards, "run") })
        {
            var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--device", "cpu", "--out", inside, "--quiet");
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.Contains($"the --data directory {shards}", r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(shards, "run")));
        Assert.False(Directory.Exists(tmp.Sub("r1")));
    }

    [Fact]
    public async Task Train_CorruptImageInAShard_NamesTheShardAndItsDataDirectory()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var shard = Directory.GetFiles(Path.Combine(shards, "data"), "*.parquet").Single();
        var bytes = File.ReadAllBytes(shard);
        // The first PNG's compressed pixels (its header stays readable; the file keeps its size, as the manifest says).
        var idat = bytes.AsSpan().IndexOf("IDAT"u8);
        Assert.True(idat > 0);
        for (var i = idat + 8; i < idat + 40; i++)
        {
            bytes[i] ^= 0xFF;
        }

        File.WriteAllBytes(shard, bytes);
        var run = tmp.Sub("run");
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"zetaprep: error: --data {shards}: shard {Path.GetRelativePath(shards, shard)}: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains($"zetaprep verify {shards}", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));

        // The shard alone in a folder, no manifest.json: verify refuses such a folder, so the line did not send there (QA).
        var loose = tmp.Sub("loose");
        Directory.CreateDirectory(loose);
        File.Copy(shard, Path.Combine(loose, Path.GetFileName(shard)));
        var bare = await TrainFixtures.RunCliAsync("train", "--data", loose, "--val", val, "--epochs", "1", "--size", "16", "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, bare.ExitCode);
        Assert.StartsWith($"zetaprep: error: --data {loose}: shard {Path.GetFileName(shard)}: ", bare.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("zetaprep verify " + loose, bare.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("copy the shard again from its 'zetaprep generate' output, or generate it again ('zetaprep verify' needs the output's manifest.json, which this directory lacks).", bare.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainAndEvaluate_CorruptValidationImage_NameValAndTheFile()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var image = Directory.GetFiles(Path.Combine(val, "green")).Single();
        File.WriteAllBytes(image, File.ReadAllBytes(image)[..20]);
        var id = Path.GetRelativePath(val, image);
        var run = tmp.Sub("run");
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"zetaprep: error: --val {val}: {id}: ", r.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("replace or remove that image (every validation image is evaluated).", r.Stderr.Trim(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));

        var model = tmp.Sub("model.pt");
        File.WriteAllBytes(model, [1, 2, 3]);
        var e = await TrainFixtures.RunCliAsync("evaluate", "--model", model, "--val", val, "--arch", "resnet18", "--size", "16", "--device", "cpu");
        Assert.NotEqual(0, e.ExitCode);
        Assert.Single(e.Stderr.Trim().Split('\n'));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
