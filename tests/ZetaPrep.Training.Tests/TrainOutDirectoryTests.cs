using ZetaPrep.Pipeline;

namespace ZetaPrep.Training.Tests;

/// <summary>What train does with an existing --out: another live run, a killed run's temp files, files that are not a run's.</summary>
public sealed class TrainOutDirectoryTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    private static string[] Train(string shards, string val, string run, params string[] more) =>
        ["train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--threads", "1", "--device", "cpu", "--out", run, "--quiet", .. more];

    [Fact]
    public async Task Train_OutLockedByAnotherRun_IsRefusedBeforeWritingAnything()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");

        // The other run has just started: it holds the lock and has written its config.json, no epoch yet.
        var reference = tmp.Sub("reference");
        var first = await TrainFixtures.RunCliAsync(Train(shards, val, reference));
        Assert.True(first.ExitCode == 0, first.Stderr);
        Directory.CreateDirectory(run);
        File.Copy(Path.Combine(reference, "config.json"), Path.Combine(run, "config.json"));
        var before = Snapshot(run);
        using (OutputLock.Acquire(run, worker: null))
        {
            var second = await TrainFixtures.RunCliAsync(Train(shards, val, run, "--seed", "7"));
            Assert.Equal(1, second.ExitCode);
            Assert.Equal($"zetaprep: error: --out {run}: another zetaprep run is writing there (it holds .zetaprep.lock); wait for it to end, or choose another --out.", second.Stderr.Trim());
            Assert.Equal(before, Snapshot(run));
        }

        // Once the other run has ended, the same command trains, and leaves no lock file behind.
        var third = await TrainFixtures.RunCliAsync(Train(shards, val, run));
        Assert.True(third.ExitCode == 0, third.Stderr);
        Assert.False(File.Exists(Path.Combine(run, OutputLock.FileName)));
        Assert.True(File.Exists(Path.Combine(run, "best.pt")));
    }

    [Fact]
    public async Task Train_StaleTempFilesOfAKilledRun_AreDeletedAtStart()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        Directory.CreateDirectory(run);
        // What kill -9 during an epoch's save leaves (a process id that is not this one's).
        string[] stale = ["best.pt.tmp-4000001", "last.pt.tmp-4000001", "last.optimizer.pt.tmp-4000001", "metrics.jsonl.tmp-4000001", "last.json.tmp-4000001",
            ".config.json.tmp-4000001-0123456789abcdef0123456789abcdef", ".curves.png.tmp-4000001-0123456789abcdef0123456789abcdef"];
        foreach (var name in stale)
        {
            File.WriteAllText(Path.Combine(run, name), "partial");
        }

        var r = await TrainFixtures.RunCliAsync(Train(shards, val, run));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp-*", new EnumerationOptions { AttributesToSkip = 0 }));
        Assert.True(File.Exists(Path.Combine(run, "last.pt")));
    }

    [Fact]
    public async Task Train_OutHoldingFilesThatAreNotARun_IsRefused_AnEmptyOneIsFine()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);

        var user = tmp.Sub("user");
        Directory.CreateDirectory(user);
        File.WriteAllText(Path.Combine(user, "config.json"), "{\"mine\": 1}\n");
        File.WriteAllText(Path.Combine(user, "notes.txt"), "keep\n");
        var r = await TrainFixtures.RunCliAsync(Train(shards, val, user));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"zetaprep: error: --out {user}: holds files that are not a zetaprep run's (config.json (not a zetaprep train config.json), notes.txt)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("choose a new or empty directory", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("{\"mine\": 1}\n", File.ReadAllText(Path.Combine(user, "config.json")));
        Assert.Equal(["config.json", "notes.txt"], Directory.EnumerateFileSystemEntries(user).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var other = tmp.Sub("other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "results.csv"), "a,b\n");
        var o = await TrainFixtures.RunCliAsync(Train(shards, val, other));
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("(results.csv)", o.Stderr, StringComparison.Ordinal);

        var empty = tmp.Sub("empty");
        Directory.CreateDirectory(empty);
        var e = await TrainFixtures.RunCliAsync(Train(shards, val, empty));
        Assert.True(e.ExitCode == 0, e.Stderr);

        // A run killed during its first epoch leaves only its config.json: a plain rerun starts it again.
        var killed = tmp.Sub("killed");
        Directory.CreateDirectory(killed);
        File.Copy(Path.Combine(empty, "config.json"), Path.Combine(killed, "config.json"));
        var k = await TrainFixtures.RunCliAsync(Train(shards, val, killed));
        Assert.True(k.ExitCode == 0, k.Stderr);
    }

    private static List<(string Name, string Content)> Snapshot(string dir) =>
        [.. Directory.EnumerateFiles(dir, "*", new EnumerationOptions { AttributesToSkip = 0 })
            .Where(f => Path.GetFileName(f) != OutputLock.FileName)
            .Select(f => (Path.GetFileName(f), Convert.ToHexString(File.ReadAllBytes(f))))
            .OrderBy(p => p.Item1, StringComparer.Ordinal)];
}
