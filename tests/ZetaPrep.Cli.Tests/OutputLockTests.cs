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
}
