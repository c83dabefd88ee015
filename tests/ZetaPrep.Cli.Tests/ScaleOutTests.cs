using ZetaPrep.Manifests;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;

namespace ZetaPrep.Cli.Tests;

public sealed class ScaleOutTests
{
    private static string[] Args(string input, string output) =>
        ["generate", "--in", input, "--out", output, "--n", "3", "--batch-size", "4", "--shard-rows", "8", "--size", "12", "--seed", "3", "--quiet"];

    [Fact]
    public async Task WorkersClosingLine_SaysItsShareOfThePlan_TheSingleRunsLineUnchanged()
    {
        // A worker said "wrote 8 rows (27 inputs × 1 pass(es), …) in 1 shard(s)": its rows beside the whole plan's inputs.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9); // 27 inputs → 7 batches → 4 shards of ≤ 8 rows
        var single = await CliRunner.RunAsync(Args(input, tmp.Sub("single")));
        Assert.StartsWith("wrote 27 rows (27 inputs × 1 pass(es), N=3, γ=2.8) in 4 shard(s), ", single.Stdout, StringComparison.Ordinal);

        var shared = tmp.Sub("shared");
        var w0 = await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/3"]);
        Assert.True(w0.ExitCode == 0, w0.Stderr);
        var rows = GenerationManifest.Read(Path.Combine(shared, "manifest.worker-0-of-3.json")).Totals.Rows; // shards 0 and 3
        Assert.StartsWith($"wrote {rows} of 27 rows (worker 0/3: 2 of 4 shard(s); 27 inputs × 1 pass(es), N=3, γ=2.8), ", w0.Stdout, StringComparison.Ordinal);
        Assert.Contains($" MiB, to {shared}\n", w0.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        var again = await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/3", "--resume"]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal($"nothing to do: worker 0/3's 2 of 4 shard(s) ({rows} of 27 rows) in {shared} are complete and intact; manifest: {Path.Combine(shared, "manifest.worker-0-of-3.json")}", again.Stdout.Trim());
    }

    [Fact]
    public async Task TwoWorkers_IntoOneDirectory_Merge_EqualsTheSingleRun()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9); // 27 inputs → 7 batches → 4 shards of ≤ 8 rows
        var single = tmp.Sub("single");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(input, single))).ExitCode);
        var shared = tmp.Sub("shared");

        var w1 = await CliRunner.RunAsync([.. Args(input, shared), "--worker", "1/2"]);
        Assert.True(w1.ExitCode == 0, w1.Stderr);
        Assert.False(File.Exists(Path.Combine(shared, "manifest.json")));
        var partial1 = GenerationManifest.Read(Path.Combine(shared, "manifest.worker-1-of-2.json"));
        Assert.Equal(["data/train-00001-of-00004.parquet", "data/train-00003-of-00004.parquet"], partial1.Shards.Select(s => s.File));
        Assert.Equal(new WorkerInfo(1, 2), partial1.Worker);

        var early = await CliRunner.RunAsync("merge", shared);
        Assert.Equal(1, early.ExitCode);
        Assert.Contains("data/train-00000-of-00004.parquet (worker 0/2)", early.Stderr, StringComparison.Ordinal);
        Assert.Contains("no partial manifest from worker(s) 0", early.Stderr, StringComparison.Ordinal);

        var w0 = await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/2"]);
        Assert.True(w0.ExitCode == 0, w0.Stderr);
        var merged = await CliRunner.RunAsync("merge", shared);
        Assert.True(merged.ExitCode == 0, merged.Stderr);

        Assert.Equal(ChildProcess.ShardHashes(single), ChildProcess.ShardHashes(shared));
        var a = GenerationManifest.Read(Path.Combine(single, "manifest.json"));
        var b = GenerationManifest.Read(Path.Combine(shared, "manifest.json"));
        Assert.Equal(a.Shards, b.Shards);
        Assert.Equal(a.Totals, b.Totals);
        Assert.Equal(a.Plan, b.Plan);
        Assert.Equal(a.Input, b.Input);
        Assert.True(b.Complete);
        Assert.Null(b.Worker);

        // The merged record is of the whole dataset: the command without --worker (not worker 0's, which makes half),
        // each worker's own command and time, and the longest worker's time as the run's.
        Assert.Equal("zetaprep " + ShellWords.Join(Args(input, shared)), b.CommandLine);
        Assert.NotNull(b.Workers);
        Assert.Equal([(0, 2), (1, 2)], b.Workers.Select(w => (w.Index, w.Count)));
        Assert.Equal(["zetaprep " + ShellWords.Join([.. Args(input, shared), "--worker", "0/2"]), "zetaprep " + ShellWords.Join([.. Args(input, shared), "--worker", "1/2"])],
            b.Workers.Select(w => w.CommandLine));
        Assert.Equal(b.Workers.Max(w => w.WallTimeS), b.WallTimeS);
        Assert.All(b.Workers, w => Assert.True(w.WallTimeS > 0));
        var card = await File.ReadAllTextAsync(Path.Combine(shared, "README.md"));
        Assert.Equal(DatasetCard.Render(b), card);
        Assert.Contains("```sh\n" + b.CommandLine + "\n```", card, StringComparison.Ordinal);
        Assert.Contains("Written by 2 workers", card, StringComparison.Ordinal);

        // Rerunning the recorded command (into another directory) makes every shard, not a worker's share.
        var words = ShellWords.Split(b.CommandLine);
        var again = tmp.Sub("again");
        words[words.IndexOf("--out") + 1] = again;
        var rerun = await CliRunner.RunAsync([.. words.Skip(1)]);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Equal(ChildProcess.ShardHashes(shared), ChildProcess.ShardHashes(again));
    }

    [Fact]
    public async Task Merge_RefusesAMissingOrDamagedShard_NamingIt()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9);
        var shared = tmp.Sub("shared");
        foreach (var w in new[] { "0/2", "1/2" })
        {
            Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, shared), "--worker", w])).ExitCode);
        }
        File.Delete(Path.Combine(shared, "data", "train-00002-of-00004.parquet"));
        var r = await CliRunner.RunAsync("merge", shared);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("data/train-00002-of-00004.parquet (missing)", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(shared, "manifest.json")));

        // Resuming the owning worker redoes exactly that shard; then merge succeeds.
        var resumed = await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/2", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(0, (await CliRunner.RunAsync("merge", shared)).ExitCode);
    }

    [Fact]
    public async Task Worker_RefusesAFinishedOutput_AndAnotherSplitsWorkers_KeepingTheirShards()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9);
        var done = tmp.Sub("done");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(input, done))).ExitCode);
        var before = ChildProcess.ShardHashes(done);
        var into = await CliRunner.RunAsync([.. Args(input, done), "--gamma", "2", "--worker", "0/2"]);
        Assert.Equal(2, into.ExitCode);
        Assert.Contains("already holds a merged or single-run ZetaPrep output (manifest.json)", into.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, ChildProcess.ShardHashes(done));
        Assert.Equal(0, (await CliRunner.RunAsync("verify", done)).ExitCode);

        var shared = tmp.Sub("shared");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/2"])).ExitCode);
        var other = await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/3"]);
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("holds manifest.worker-0-of-2.json, from a split into another number of workers", other.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, shared), "--worker", "1/2"])).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("merge", shared)).ExitCode);

        // Workers' output not merged yet is replaced by --overwrite, like a merged one, partial manifests and all.
        var unmerged = tmp.Sub("unmerged");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, unmerged), "--worker", "0/2"])).ExitCode);
        var single = await CliRunner.RunAsync([.. Args(input, unmerged), "--overwrite"]);
        Assert.True(single.ExitCode == 0, single.Stderr);
        Assert.Empty(Directory.GetFiles(unmerged, "manifest.worker-*.json"));
        Assert.Equal(0, (await CliRunner.RunAsync("verify", unmerged)).ExitCode);
    }

    [Fact]
    public async Task FolderFormat_ResumeRedoesAShardMissingAnImage_MergeRefusesIt()
    {
        // A folder-format shard is its label part plus the images it lists: an image gone must not pass as a finished shard.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9);
        var single = tmp.Sub("single");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, single), "--format", "folder"])).ExitCode);
        static string[] Files(string dir) => [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => Path.GetRelativePath(dir, f).StartsWith("images/", StringComparison.Ordinal) || Path.GetRelativePath(dir, f).StartsWith("labels", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(f => Path.GetRelativePath(dir, f) + " " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))))];
        var clean = Files(single);
        File.Delete(Path.Combine(single, "images", "00000001.png"));
        var resumed = await CliRunner.RunAsync([.. Args(input, single), "--format", "folder", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(clean, Files(single));
        Assert.Equal(0, (await CliRunner.RunAsync("verify", single)).ExitCode);

        var shared = tmp.Sub("shared");
        foreach (var w in new[] { "0/2", "1/2" })
        {
            Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, shared), "--format", "folder", "--worker", w])).ExitCode);
        }
        File.Delete(Path.Combine(shared, "images", "00000001.png"));
        var merge = await CliRunner.RunAsync("merge", shared);
        Assert.Equal(1, merge.ExitCode);
        // The image and what is wrong once, then merge's own way on (the output's path and resume advice were in it twice).
        Assert.Equal($"zetaprep: error: merge {shared}: 1 shard(s) do not match their manifest: labels/train-00000-of-00004.parquet (images/00000001.png: listed in labels/train-00000-of-00004.parquet but missing); rerun the owning worker with --resume, then merge again.", merge.Stderr.Trim());
    }

    [Fact]
    public async Task Merge_RefusesWorkersWithDifferentOptions()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9);
        var shared = tmp.Sub("shared");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, shared), "--worker", "0/2"])).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(input, shared), "--worker", "1/2", "--gamma", "2"])).ExitCode);
        var r = await CliRunner.RunAsync("merge", shared);
        Assert.Equal(1, r.ExitCode);
        // Each value with the file that holds it (it said "(manifest 2.8, now 2)", after naming worker 1's file first).
        Assert.Contains("manifest.worker-0-of-2.json vs manifest.worker-1-of-2.json: --gamma differs (manifest.worker-0-of-2.json 2.8, manifest.worker-1-of-2.json 2)", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/4", 3, 4)]
    public void WorkerSpec_Parses(string text, int index, int count) =>
        Assert.Equal(new WorkerSpec(index, count), WorkerSpec.Parse(text));

    [Theory]
    [InlineData("4/4")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("-1/2")]
    [InlineData("1/0")]
    [InlineData("1/2/3")]
    public async Task MalformedWorker_IsAUsageError(string text)
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 2);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--worker", text, "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--worker", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public void WorkerSpec_ComesFromSchedulerEnvironment()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
            name => vars.FirstOrDefault(v => v.Name == name).Value;

        Assert.Null(WorkerSpec.Resolve(null, null, Env()));
        Assert.Equal(new WorkerSpec(2, 3), WorkerSpec.Resolve("2/3", null, Env(("SLURM_ARRAY_TASK_ID", "0"))));
        Assert.Equal(new WorkerSpec(1, 4), WorkerSpec.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
        // An array of 4 tasks with --workers 5: worker 4 would never run, its shards missing only at merge.
        Assert.Contains("--workers 5 differs from this Slurm array's 4 task(s)", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, 5, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")))).Message, StringComparison.Ordinal);
        Assert.Equal(new WorkerSpec(1, 4), WorkerSpec.Resolve(null, 4, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
        Assert.Equal(new WorkerSpec(1, 5), WorkerSpec.Resolve(null, 5, Env(("SLURM_ARRAY_TASK_ID", "1"))));
        Assert.Equal(new WorkerSpec(6, 8), WorkerSpec.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "6"), ("ZETAPREP_WORKERS", "8"))));
        Assert.Equal(new WorkerSpec(6, 7), WorkerSpec.Resolve(null, 7, Env(("JOB_COMPLETION_INDEX", "6"))));

        Assert.Equal(2, Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "6")))).ExitCode);
        Assert.Contains("ZETAPREP_WORKERS", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "6")))).Message, StringComparison.Ordinal);
        Assert.Contains("outside 0..3", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "4")))).Message, StringComparison.Ordinal);
        Assert.Contains("SLURM_ARRAY_TASK_ID", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "4")))).Message, StringComparison.Ordinal);
        Assert.Equal("environment SLURM_ARRAY_TASK_ID='4294967296' is not an integer from 0 to 2147483647.", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "4294967296"), ("SLURM_ARRAY_TASK_COUNT", "4")))).Message);
        Assert.Contains("disagree", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve("1/2", 3, Env())).Message, StringComparison.Ordinal);
        Assert.Contains("--worker I/4", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, 4, Env())).Message, StringComparison.Ordinal);
    }

    /// <summary>Slurm numbers an array's tasks as submitted (--array=1-2 gives ids 1 and 2): the index is id − SLURM_ARRAY_TASK_MIN,
    /// and an array with gaps in its ids (a step, a list) is refused by every task alike.</summary>
    [Fact]
    public void WorkerSpec_FromASlurmArray_CountsFromItsFirstTask()
    {
        static Func<string, string?> Array(string id, string? min, string? max, string? count, string? step = null) =>
            name => name switch
            {
                "SLURM_ARRAY_TASK_ID" => id,
                "SLURM_ARRAY_TASK_MIN" => min,
                "SLURM_ARRAY_TASK_MAX" => max,
                "SLURM_ARRAY_TASK_COUNT" => count,
                "SLURM_ARRAY_TASK_STEP" => step,
                _ => null,
            };

        // --array=1-2: tasks 1 and 2 are workers 0 and 1 of 2; --array=0-7%2 (throttled) as ever.
        Assert.Equal(new WorkerSpec(0, 2), WorkerSpec.Resolve(null, null, Array("1", "1", "2", "2")));
        Assert.Equal(new WorkerSpec(1, 2), WorkerSpec.Resolve(null, null, Array("2", "1", "2", "2")));
        Assert.Equal(new WorkerSpec(7, 8), WorkerSpec.Resolve(null, null, Array("7", "0", "7", "8", "1")));
        Assert.Equal(new WorkerSpec(3, 4), WorkerSpec.Resolve(null, 4, Array("13", "10", "13", "4")));

        // Gaps: --array=0-6:2 (ids 0, 2, 4, 6) and --array=1,2,5; every task is refused, the first as well.
        foreach (var id in new[] { "0", "2", "4", "6" })
        {
            var e = Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Array(id, "0", "6", "4", "2")));
            Assert.Equal(2, e.ExitCode);
            Assert.Contains("task ids have gaps", e.Message, StringComparison.Ordinal);
            Assert.Contains("--array=0-3", e.Message, StringComparison.Ordinal);
        }
        foreach (var id in new[] { "1", "2", "5" })
        {
            Assert.Contains("task ids have gaps", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, null, Array(id, "1", "5", "3"))).Message, StringComparison.Ordinal);
        }
        // --workers smaller than the array: the tasks past it are refused, naming where the array starts.
        Assert.Contains("--workers 2 differs from this Slurm array's 3 task(s)", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, 2, Array("3", "1", "3", "3"))).Message, StringComparison.Ordinal);
        // A failed subset resubmitted as its own array (--array=5-6 of 8 workers) would be renumbered 0..1: refused.
        Assert.Contains("--workers 8 differs from this Slurm array's 2 task(s)", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, 8, Array("5", "5", "6", "2"))).Message, StringComparison.Ordinal);
        Assert.Contains("outside 0..1 for 2 workers", Assert.Throws<ZetaPrepException>(() => WorkerSpec.Resolve(null, 2, Array("3", null, null, null))).Message, StringComparison.Ordinal);
    }

    /// <summary>A 1-based array end to end: the tasks get their worker index from the environment, and the merge equals the single run.</summary>
    [Fact]
    public async Task ASlurmArrayFromOne_WritesEveryShard_AndMergesToTheSingleRun()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 3, perClass: 9);
        var single = tmp.Sub("single");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(input, single))).ExitCode);
        var shared = tmp.Sub("shared");
        foreach (var task in new[] { "2", "1" })
        {
            var environment = new Dictionary<string, string>
            {
                ["SLURM_ARRAY_TASK_ID"] = task,
                ["SLURM_ARRAY_TASK_MIN"] = "1",
                ["SLURM_ARRAY_TASK_MAX"] = "2",
                ["SLURM_ARRAY_TASK_COUNT"] = "2",
            };
            using var run = ChildProcess.Start(environment, [.. Args(input, shared), "--resume"]);
            var (code, _, stderr) = await run.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(code == 0, stderr);
        }
        Assert.Equal(["manifest.worker-0-of-2.json", "manifest.worker-1-of-2.json"],
            Directory.GetFiles(shared, "manifest.worker-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var merged = await CliRunner.RunAsync("merge", shared);
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        Assert.Equal(ChildProcess.ShardHashes(single), ChildProcess.ShardHashes(shared));
    }

    [Theory]
    [InlineData("256MB", 256_000_000L)]
    [InlineData("256 mb", 256_000_000L)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1.5KiB", 1536L)]
    [InlineData("4KB", 4000L)]
    [InlineData("500000", 500_000L)]
    [InlineData("12B", 12L)]
    [InlineData("2GB", 2_000_000_000L)]
    public void ShardBytes_Parses(string text, long bytes) => Assert.Equal(bytes, ShardSizing.ParseBytes(text));

    [Theory]
    [InlineData("")]
    [InlineData("MB")]
    [InlineData("-5MB")]
    [InlineData("12XB")]
    [InlineData("1.2.3MB")]
    public void ShardBytes_RejectsNonSizes(string text) =>
        Assert.StartsWith($"--shard-bytes: '{text}' is not a size;", Assert.Throws<ZetaPrepException>(() => ShardSizing.ParseBytes(text)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("0", "--shard-bytes: must be a size of at least 1 byte (got '0')")]
    [InlineData("0MB", "--shard-bytes: must be a size of at least 1 byte (got '0MB')")]
    [InlineData("0.5", "--shard-bytes: must be a size of at least 1 byte (got '0.5')")]
    [InlineData("9223372036854775808", "--shard-bytes: must be a size of at most 9223372036854775807 bytes (got '9223372036854775808')")]
    [InlineData("99999999999999999999TB", "--shard-bytes: must be a size of at most 9223372036854775807 bytes (got '99999999999999999999TB')")]
    public async Task ShardBytes_OutOfRange_SaysTheRange_NotThatItIsNoSize(string text, string message)
    {
        // '0' is a size, just not one a shard can have: the message said "'0' is not a size".
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 2);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--size", "8", "--n", "2", "--shard-bytes", text, "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"zetaprep: error: {message}; give e.g. 256MB", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public async Task ShardBytes_CutsShardsByRawPixelBytes_InWholeBatches()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 10); // 20 inputs, batches of 4
        var output = tmp.Sub("out");
        // --size 10: 300 raw bytes per row; 3KB → 10 rows → two batches (8 rows) per shard → shards of 8, 8, 4.
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "2", "--batch-size", "4", "--size", "10",
            "--shard-bytes", "3KB", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal([8L, 8L, 4L], manifest.Shards.Select(s => s.Rows));
        Assert.Equal(10, manifest.Options.ShardRows);
        Assert.Equal(3000L, manifest.Options.ShardBytes);

        // Smaller than one batch still gives whole batches: one batch per shard.
        var tiny = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub("tiny"), "--n", "2", "--batch-size", "4", "--size", "10",
            "--shard-bytes", "1B", "--quiet");
        Assert.True(tiny.ExitCode == 0, tiny.Stderr);
        Assert.All(GenerationManifest.Read(Path.Combine(tmp.Sub("tiny"), "manifest.json")).Shards, s => Assert.Equal(4L, s.Rows));
    }

    [Fact]
    public async Task ShardBytes_WithExplicitShardRows_IsAUsageError()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 2);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--shard-rows", "10", "--shard-bytes", "1MB", "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--shard-rows and --shard-bytes", r.Stderr, StringComparison.Ordinal);
        var bad = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--shard-bytes", "lots", "--quiet");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--shard-bytes", bad.Stderr, StringComparison.Ordinal);
    }
}
