namespace ZetaPrep.Training.Tests;

/// <summary>compare's refusals and errors in its own terms (not generate's or train's), and what a failed compare leaves behind.</summary>
public sealed class CompareRefusalTests
{
    private static readonly string[] Classes = ["blue", "green"];

    private static string[] Args(string train, string val, string outDir, params string[] more) => CompareArgs.Tiny(train, val, outDir, more);

    [Fact]
    public async Task Compare_MoreEpochsThanFinishedRuns_IsRefused_AndDamagedFilesSayDeleteThatDirectory()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 4, seed: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var outDir = tmp.Sub("cmp");
        string[] Args(params string[] more) => CompareArgs.Tiny(train, val, outDir, ["--k", "2", "--max-samples", "4", .. more]);
        var run = Path.Combine(outDir, "runs", "none-s0");
        var shards = Path.Combine(outDir, "shards", "none-s0");

        var first = await TrainFixtures.RunCliAsync(Args());
        Assert.True(first.ExitCode == 0, first.Stderr);

        // More epochs than the finished run had: continuing it would keep its 1-epoch schedule, so it is refused before any work.
        var more = await TrainFixtures.RunCliAsync(Args("--epochs", "2"));
        Assert.Equal(2, more.ExitCode);
        Assert.Single(more.Stderr.Trim().Split('\n'));
        Assert.Contains($"compare --out {outDir}: --epochs 2, but run {Path.Combine("runs", "none-s0")} (1) was trained for 1 epoch(s)", more.Stderr, StringComparison.Ordinal);
        Assert.Contains("choose another --out for --epochs 2 (or rerun with --epochs 1)", more.Stderr, StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")));

        // A damaged config.json: compare's way on, not evaluate's (--arch, --size).
        var config = Path.Combine(run, "config.json");
        var configText = File.ReadAllText(config);
        File.WriteAllText(config, "{");
        var badConfig = await TrainFixtures.RunCliAsync(Args());
        Assert.NotEqual(0, badConfig.ExitCode);
        Assert.Single(badConfig.Stderr.Trim().Split('\n'));
        Assert.Contains($"compare: none seed 0: checking {run}: ", badConfig.Stderr, StringComparison.Ordinal);
        Assert.Contains($"delete {run} and rerun the same compare", badConfig.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--arch", badConfig.Stderr, StringComparison.Ordinal);
        File.WriteAllText(config, configText);

        // A truncated shard: no 'zetaprep generate ... --resume', no --out naming OUT/shards/…; deleting the directory as told works.
        var shard = Directory.GetFiles(Path.Combine(shards, "data"), "*.parquet").Single();
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length / 2)]);
        var badShard = await TrainFixtures.RunCliAsync(Args());
        Assert.Equal(1, badShard.ExitCode);
        Assert.Single(badShard.Stderr.Trim().Split('\n'));
        Assert.Contains($"compare: none seed 0: checking {shards}: ", badShard.Stderr, StringComparison.Ordinal);
        Assert.Contains($"delete {shards} and rerun the same compare", badShard.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("zetaprep generate", badShard.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--resume", badShard.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain($"--out {shards}", badShard.Stderr, StringComparison.Ordinal);
        Directory.Delete(shards, recursive: true);
        var repaired = await TrainFixtures.RunCliAsync(Args());
        Assert.True(repaired.ExitCode == 0, repaired.Stderr);
        Assert.Contains("1 run(s) (1 reused)", repaired.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(shards, "manifest.json")));
    }

    [Fact]
    public async Task Compare_OutInsideIn_IsRefusedNamingCompareOut_BeforeCreatingAnything()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 2, seed: 1);
        var outDir = Path.Combine(train, "sub");

        var r = await TrainFixtures.RunCliAsync(Args(train, train, outDir));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"compare --out {outDir}: is inside --in {train}", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.Combine(outDir, "shards"), r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Compare_CorruptInputImage_GivesCompareWayOn_AndRemovesTheOutItCreated()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 3, seed: 1);
        var bad = Path.Combine(train, "blue", "bad.png");
        File.WriteAllBytes(bad, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var outDir = tmp.Sub("o");

        var r = await TrainFixtures.RunCliAsync(Args(train, val, outDir, "--k", "2", "--max-samples", "4"));
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"compare: none seed 0: generating into {Path.Combine(outDir, "shards", "none-s0")}: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("bad.png", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("remove or replace that file in --in and rerun the same compare", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--on-error", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));

        // An --out that existed before is kept (with what was in it: a hidden file, as other files are refused up front);
        // only what this compare created goes.
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, ".keep"), "mine");
        var again = await TrainFixtures.RunCliAsync(Args(train, val, outDir, "--k", "2", "--max-samples", "4"));
        Assert.Equal(1, again.ExitCode);
        Assert.Equal([".keep"], Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("--resume: /o/runs/none-s0/last.optimizer.pt is corrupt or truncated (EOF); delete the run directory's last.* files to start over.", "/o/runs/none-s0", 2, "delete /o/runs/none-s0 and rerun the same compare")]
    [InlineData("--resume /o/runs/none-s0/last.pt: corrupt, truncated or not a TorchSharp checkpoint (x); save it again with model.save or point at another file.", "/o/runs/none-s0", 1, "delete /o/runs/none-s0 and rerun the same compare")]
    [InlineData("training diverged: the validation loss after epoch 1 is NaN (the weights overflowed); nothing was saved: train again into a new --out with a lower learning rate (--lr, now 0.1).", "/o/runs/none-s0", 1, "a larger --batch-size (now 4)")]
    [InlineData("--out /o/shards/none-s0: cannot write (No space left on device); the shard in progress was discarded and finished shards are kept: free space or fix permissions, then rerun the same command with --resume.", "/o/shards/none-s0", 1, "free space or fix permissions (or choose another --out), then rerun the same compare")]
    public void Compare_TrainAndGenerateErrors_AreRewordedInCompareTerms(string inner, string dir, int exitCode, string wayOn)
    {
        var options = new ComparisonOptions { InputDirectory = "/in", OutputDirectory = "/o", Methods = ["none"], BatchSize = 4 };
        var e = MethodComparison.InCompareTerms("none", 0, "training into", dir, options, new ZetaPrepException(inner, exitCode));
        Assert.Equal(exitCode, e.ExitCode);
        Assert.StartsWith($"compare: none seed 0: training into {dir}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(wayOn, e.Message, StringComparison.Ordinal);
        foreach (var foreign in new[] { "--resume", "--lr", "--on-error", "zetaprep generate", "model.save", "--out /o/" })
        {
            Assert.DoesNotContain(foreign, e.Message, StringComparison.Ordinal);
        }
    }
}
