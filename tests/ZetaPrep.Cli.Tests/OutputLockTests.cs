using ZetaPrep.Pipeline;

namespace ZetaPrep.Cli.Tests;

/// <summary>generate holds a lock on its --out while it writes; a second run there is refused before it writes anything.</summary>
public sealed class OutputLockTests
{
    private static string[] Generate(string input, string output, params string[] more) =>
        ["generate", "--in", input, "--out", output, "--size", "16", "--n", "2", "--batch-size", "4", "--quiet", .. more];

    [Fact]
    public async Task HeldLock_RefusesTheRun_WithOneLine_AndWritesNothing()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        // Another process's lock, as flock(2) sees it: a second open file description, even in this process.
        using (OutputLock.Acquire(output, worker: null))
        {
            var r = await CliRunner.RunAsync(Generate(input, output));
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"zetaprep: error: --out {output}: another zetaprep run is writing there (it holds .zetaprep.lock); wait for it to end, or choose another --out.", r.Stderr.Trim());
            Assert.Equal([".zetaprep.lock"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
        }
        // Released (and its file deleted): the same command runs.
        var ok = await CliRunner.RunAsync(Generate(input, output));
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.True(File.Exists(Path.Combine(output, "manifest.json")));
        Assert.False(File.Exists(Path.Combine(output, ".zetaprep.lock")));
    }

    [Fact]
    public async Task HeldLock_KeepsAFinishedOutput_FromAnOverwrite()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Generate(input, output))).ExitCode);
        var before = ChildProcess.ShardHashes(output);
        var manifest = File.ReadAllBytes(Path.Combine(output, "manifest.json"));
        using (OutputLock.Acquire(output, worker: null))
        {
            foreach (var args in new[] { Generate(input, output, "--overwrite", "--seed", "9"), Generate(input, output, "--resume") })
            {
                var r = await CliRunner.RunAsync(args);
                Assert.Equal(1, r.ExitCode);
                Assert.Contains("another zetaprep run is writing there", r.Stderr, StringComparison.Ordinal);
            }
        }
        Assert.Equal(before, ChildProcess.ShardHashes(output));
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(output, "manifest.json")));
    }

    [Fact]
    public async Task Workers_LockTheirOwnFile_SoOnlyTheSameWorkerTwiceIsRefused()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 8);
        var output = tmp.Sub("out");
        using (OutputLock.Acquire(output, new WorkerSpec(0, 2)))
        {
            var other = await CliRunner.RunAsync(Generate(input, output, "--shard-rows", "4", "--worker", "1/2"));
            Assert.True(other.ExitCode == 0, other.Stderr);
            var same = await CliRunner.RunAsync(Generate(input, output, "--shard-rows", "4", "--worker", "0/2"));
            Assert.Equal(1, same.ExitCode);
            Assert.Contains("another zetaprep run of worker 0/2 is writing there (it holds .zetaprep.worker-0-of-2.lock)", same.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(output, "manifest.worker-0-of-2.json")));
        }
        Assert.True(File.Exists(Path.Combine(output, "manifest.worker-1-of-2.json")));
        // Each run deletes its lock file as it ends.
        Assert.Empty(Directory.GetFiles(output, ".zetaprep*.lock"));
    }

    /// <summary>
    /// merge while a worker still writes: its partial manifest lacks its newest shards, and the advice for a missing
    /// shard (rerun that worker) is what its lock refuses. merge says a run is writing and merges nothing.
    /// </summary>
    [Fact]
    public async Task Merge_BesideALiveWorker_SaysSo_AndMergesNothing()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 8);
        var output = tmp.Sub("out");
        foreach (var worker in new[] { "0/2", "1/2" })
        {
            var w = await CliRunner.RunAsync(Generate(input, output, "--shard-rows", "4", "--worker", worker));
            Assert.True(w.ExitCode == 0, w.Stderr);
        }
        using (OutputLock.Acquire(output, new WorkerSpec(1, 2)))
        {
            var r = await CliRunner.RunAsync("merge", output);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"zetaprep: error: merge {output}: a zetaprep run is still writing there (holding .zetaprep.worker-1-of-2.lock); nothing was merged: run merge again after it ends.", r.Stderr.Trim());
            Assert.False(File.Exists(Path.Combine(output, "manifest.json")));
        }
        var merged = await CliRunner.RunAsync("merge", output);
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        Assert.True(File.Exists(Path.Combine(output, "manifest.json")));
    }

    /// <summary>
    /// verify beside a live run (QA): it says a run is writing there, before anything else, and gives none of the advice
    /// for an interrupted run (resume it, restore the manifest), which that run's lock would refuse; not verified, exit 1.
    /// A lock file a killed run left locks nothing, and then the output is checked as usual.
    /// </summary>
    [Fact]
    public async Task Verify_BesideALiveRun_SaysSoFirst_AndGivesNoResumeAdvice()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Generate(input, output, "--shard-rows", "4"))).ExitCode);
        // The output as a run leaves it between its second and third shard: the third written, not yet listed.
        var path = Path.Combine(output, "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var last = json["shards"]!.AsArray()[^1]!;
        json["totals"]!["rows"] = json["totals"]!["rows"]!.GetValue<long>() - last["rows"]!.GetValue<long>();
        json["totals"]!["bytes"] = json["totals"]!["bytes"]!.GetValue<long>() - last["bytes"]!.GetValue<long>();
        json["shards"]!.AsArray().RemoveAt(json["shards"]!.AsArray().Count - 1);
        json["complete"] = false;
        File.WriteAllText(path, json.ToJsonString());

        using (OutputLock.Acquire(output, worker: null))
        {
            var r = await CliRunner.RunAsync("verify", output);
            Assert.Equal(1, r.ExitCode);
            var lines = r.Stdout.TrimEnd().Split('\n');
            Assert.Equal($"note: {output}: a zetaprep run is writing there (it holds .zetaprep.lock); nothing was checked: run zetaprep verify again after it ends.", lines[0]);
            Assert.Equal("FAILED: 0 shard(s), 0 row(s) checked, 0 problem(s), 0 warning(s); not verified while a run writes the output", Assert.Single(lines[1..]));
            Assert.Empty(r.Stderr);
        }

        // inspect and preview beside the live run: incomplete, and still being written, not to be resumed.
        using (OutputLock.Acquire(output, worker: null))
        {
            var inspect = await CliRunner.RunAsync("inspect", output);
            Assert.Equal(0, inspect.ExitCode);
            Assert.StartsWith("warning: incomplete: manifest.json says complete: false (2 of 3 shards written), so this summary covers those shards only; a zetaprep run is still writing there (holding .zetaprep.lock): look again after it ends.", inspect.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("--resume", inspect.Stdout, StringComparison.Ordinal);
        }

        // The run has ended (killed: its lock file stays, holding nothing): now it is an interrupted run, and verify says how to finish it.
        File.WriteAllBytes(Path.Combine(output, ".zetaprep.lock"), []);
        var stale = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, stale.ExitCode);
        Assert.DoesNotContain("note:", stale.Stdout, StringComparison.Ordinal);
        Assert.Contains("problem: manifest.json: the run is not complete (complete = false); rerun or resume the generation.", stale.Stdout, StringComparison.Ordinal);
        Assert.Contains("problem: data/train-00002-of-00003.parquet: a shard of the plan that manifest.json does not list", stale.Stdout, StringComparison.Ordinal);

        // A worker's run and the single run's, both live: each named.
        using (OutputLock.Acquire(output, worker: null))
        using (OutputLock.Acquire(output, new WorkerSpec(1, 2)))
        {
            var r = await CliRunner.RunAsync("verify", output);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"note: {output}: zetaprep runs are writing there (they hold .zetaprep.lock, .zetaprep.worker-1-of-2.lock); nothing was checked: run zetaprep verify again after they end.\n", r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("problem:", r.Stdout, StringComparison.Ordinal);
        }
    }

    /// <summary>A run that has not finished its first shard has written no manifest.json yet: verify says a run is writing, not "not a ZetaPrep output".</summary>
    [Fact]
    public async Task Verify_BesideARunThatHasNoManifestYet_SaysARunIsWriting()
    {
        using var tmp = new TempDir();
        var output = tmp.Sub("out");
        using (OutputLock.Acquire(output, worker: null))
        {
            var r = await CliRunner.RunAsync("verify", output);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"note: {output}: a zetaprep run is writing there (it holds .zetaprep.lock); ", r.Stdout, StringComparison.Ordinal);
            Assert.Empty(r.Stderr);
        }
        var gone = await CliRunner.RunAsync("verify", output);
        Assert.Equal(2, gone.ExitCode);
        Assert.Contains("manifest.json", gone.Stderr, StringComparison.Ordinal);
    }
}
