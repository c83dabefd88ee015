using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Cli.Tests;

public sealed class ResumeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>N, batch size (also the rows per shard: one batch per shard) and seed of <see cref="Args"/>, which <see cref="PipeInBatch15Async"/> plans again.</summary>
    private const int N = 3, BatchSize = 4, Seed = 5;

    /// <summary>Large solid inputs, one worker thread, one 4-row batch per shard.</summary>
    private static string[] Args(string input, string output) =>
        ["generate", "--in", input, "--out", output, "--n", $"{N}", "--batch-size", $"{BatchSize}", "--shard-rows", $"{BatchSize}", "--size", "96",
         "--seed", $"{Seed}", "--threads", "1", "--quiet"];

    private static void BigInputs(string root, int perClass)
    {
        for (var c = 0; c < 2; c++)
        {
            var dir = Path.Combine(root, $"class_{c}");
            Directory.CreateDirectory(dir);
            for (var k = 0; k < perClass; k++)
            {
                var colour = ImageFixtures.ColourOf(c * perClass + k);
                File.WriteAllBytes(Path.Combine(dir, $"img{k:D3}.png"), ImageFixtures.Solid(900, 700, colour.R, colour.G, colour.B));
            }
        }
    }

    /// <summary>
    /// Makes one input of batch 15 (of the 30 that <see cref="Args"/> plans for 2 × perClass inputs, one batch per shard) a
    /// named pipe. The run reads it once in the validation pass (the image is written into it then); once that read has
    /// ended, <see cref="BlockingInput.HoldAsync"/> keeps a write end open with nothing in it, so the read of batch 15
    /// waits: with one worker thread nothing goes on past there, so the run is always mid-way when a test stops it,
    /// however fast the machine. Before, the whole run could end between two polls for the first shard. (A pipe that
    /// nothing writes to is refused as a bad input, not waited for.)
    /// </summary>
    private static async Task<BlockingInput> PipeInBatch15Async(string input, int perClass)
    {
        // γ is the CLI's default; the listing is ordinal, so input i is class_{i / perClass}/img{i % perClass}.
        var plan = MixPlan.Create(2 * perClass, new PlanOptions(MixCount.Of(N), GammaSpec.Fixed(2.8), BatchSize, seed: Seed, shardRows: BatchSize));
        var index = plan.Batches[15].Inputs[0];
        var path = Path.Combine(input, $"class_{index / perClass}", $"img{index % perClass:D3}.png");
        var image = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var pipe = new BlockingInput(path, image);
        pipe.FeedValidation();
        return pipe;
    }

    private sealed class BlockingInput(string path, byte[] image) : IDisposable
    {
        private FileStream? _validationFeed;
        private FileStream? _holder;

        /// <summary>
        /// Puts the image into the pipe for the validation pass before the run starts, through a write end opened
        /// read-write (its open never waits, and it keeps the pipe and its bytes alive until the run opens it).
        /// </summary>
        public void FeedValidation()
        {
            _validationFeed = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            Assert.True(image.Length < 65536, "the image must fit the pipe's buffer: nothing reads it yet");
            _validationFeed.Write(image);
        }

        /// <summary>
        /// Once <paramref name="run"/>'s validation pass has the pipe open, closes the feeding end, so that its read ends
        /// with the image; once the pass has closed the pipe, keeps another write end open with nothing in it: the
        /// batch's read of the pipe then waits for bytes. On a thread of its own, polling without sleeping: batch 15 opens
        /// the pipe a few hundred milliseconds after the pass, and a thread-pool continuation in a busy test host can
        /// come later than that (the batch then found no writer, and the run stopped on a bad input).
        /// </summary>
        public Task HoldAsync(ChildProcess run) => Task.Factory.StartNew(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!run.HasOpen(path))
            {
                Assert.True(clock.Elapsed < Timeout, "the run did not open the pipe in its validation pass");
                Thread.Yield();
            }
            _validationFeed!.Dispose();
            while (run.HasOpen(path))
            {
                Thread.Yield();
            }
            _holder = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        /// <summary>The held read ends: the image, then end of file.</summary>
        public void Feed()
        {
            _holder!.Write(image);
            _holder.Dispose();
            _holder = null;
        }

        /// <summary>After the run has exited: the pipe becomes the regular file it stood in for (same bytes), for the resume and the clean run.</summary>
        public async Task RestoreFileAsync()
        {
            Dispose();
            File.Delete(path);
            await File.WriteAllBytesAsync(path, image);
        }

        public void Dispose()
        {
            _validationFeed?.Dispose();
            _holder?.Dispose();
        }
    }

    private static async Task<Dictionary<string, string>> CleanRunAsync(TempDir tmp, string input)
    {
        var clean = tmp.Sub("clean");
        var r = await CliRunner.RunAsync(Args(input, clean));
        Assert.True(r.ExitCode == 0, r.Stderr);
        return ChildProcess.ShardHashes(clean);
    }

    [Fact]
    public async Task ResumeWithOverwrite_IsAUsageError_AndTheOutputStaysAsItWas()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), 2, 4);
        string[] args = ["generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--n", "2", "--batch-size", "4", "--size", "8", "--quiet"];
        var first = await CliRunner.RunAsync(args);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var manifest = File.ReadAllBytes(Path.Combine(tmp.Sub("out"), "manifest.json"));

        var both = await CliRunner.RunAsync([.. args, "--resume", "--overwrite"]);
        Assert.Equal(2, both.ExitCode);
        Assert.Equal("zetaprep: error: --resume and --overwrite both given: --resume finishes the output in --out, keeping its shards; --overwrite deletes them and starts over; choose one.", both.Stderr.Trim());
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(tmp.Sub("out"), "manifest.json")));
    }

    [Fact]
    public async Task KilledRun_ResumesOnlyMissingShards_AndEndsByteIdentical()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        BigInputs(input, perClass: 60);
        var output = tmp.Sub("out");
        using var pipe = await PipeInBatch15Async(input, perClass: 60);
        using (var child = ChildProcess.Start(Args(input, output)))
        {
            await pipe.HoldAsync(child);
            // Batches 0-12 at least are written before the run stalls at batch 15 (at most three batches are in flight).
            Assert.True(await child.WaitForShardsAsync(Path.Combine(output, "manifest.json"), Timeout, shards: 3), "the run ended before three shards were written");
            child.Kill();
            await child.WaitAsync(Timeout);
        }
        await pipe.RestoreFileAsync();
        var partial = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.False(partial.Complete);
        Assert.InRange(partial.Shards.Count, 3, 15);
        var kept = partial.Shards[0];
        var keptTime = File.GetLastWriteTimeUtc(Path.Combine(output, kept.File));
        // A damaged listed shard must be redone: flip a byte in the last one listed (the first one is kept).
        var damaged = Path.Combine(output, partial.Shards[^1].File);
        var bytes = File.ReadAllBytes(damaged);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(damaged, bytes);
        // A stale temp from the killed run is removed on resume.
        File.WriteAllText(Path.Combine(output, "data", ".train-00029-of-00030.parquet.tmp-deadbeef0000"), "stale");

        var resumed = await CliRunner.RunAsync([.. Args(input, output), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);

        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.True(manifest.Complete);
        Assert.Equal(30, manifest.Shards.Count);
        Assert.Equal(keptTime, File.GetLastWriteTimeUtc(Path.Combine(output, kept.File)));
        Assert.Empty(ChildProcess.TempFiles(output));
        Assert.Equal(await CleanRunAsync(tmp, input), ChildProcess.ShardHashes(output));
        Assert.Equal(GenerationManifest.Read(Path.Combine(tmp.Sub("clean"), "manifest.json")).Shards, manifest.Shards);
        // The recorded command makes the whole dataset: the one typed, without the --resume that finished it (QA).
        Assert.Equal("zetaprep " + ShellWords.Join(Args(input, output)), manifest.CommandLine);
        Assert.Contains("```sh\n" + manifest.CommandLine + "\n```", File.ReadAllText(Path.Combine(output, "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondRun_OnAnOutputBeingWritten_IsRefused_AndLeavesItAsAloneItWouldBe()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        BigInputs(input, perClass: 60);
        var other = tmp.Sub("other");
        ImageFixtures.SolidFolder(other, classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        using var pipe = await PipeInBatch15Async(input, perClass: 60);
        using (var child = ChildProcess.Start(Args(input, output)))
        {
            await pipe.HoldAsync(child);
            // Held at batch 15 with shards 0-14 written: a live run, as when a job is submitted twice or requeued.
            Assert.True(await child.WaitForShardsAsync(Path.Combine(output, "manifest.json"), Timeout, shards: 15), "the run ended before 15 shards were written");
            Assert.True(await child.WaitForTempFileAsync(output, Timeout), "the run has no shard open");
            var manifest = File.ReadAllBytes(Path.Combine(output, "manifest.json"));
            // The finished shards (the one being written is open, and locked, in the live run).
            Dictionary<string, string> Written() => GenerationManifest.Read(Path.Combine(output, "manifest.json")).Shards
                .ToDictionary(e => e.File, e => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(output, e.File)))));
            var shards = Written();
            // Another input replacing the output: it lists and validates its own inputs, reaches the point of writing,
            // and is refused there with one line. (A --resume here would read the pipe in its pass: OutputLockTests.)
            var second = await CliRunner.RunAsync([.. Args(other, output), "--overwrite"]);
            Assert.True(second.ExitCode == 1, second.Stderr);
            var line = Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"--out {output}: another zetaprep run is writing there (it holds .zetaprep.lock); wait for it to end, or choose another --out.", line, StringComparison.Ordinal);
            // Nothing of the live run was touched: not its manifest, not its shards, not its temporary shard.
            Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(output, "manifest.json")));
            Assert.Equal(shards, Written());
            Assert.NotEmpty(ChildProcess.TempFiles(output));
            // The pipe's input changes when fed (the run would say so at its end): the live run is killed instead.
            child.Kill();
            await child.WaitAsync(Timeout);
        }
        await pipe.RestoreFileAsync();
        // The lock ended with its process; the killed run's lock file stays, locks nothing and is no output file.
        Assert.True(File.Exists(Path.Combine(output, ".zetaprep.lock")));
        var resumed = await CliRunner.RunAsync([.. Args(input, output), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.True(GenerationManifest.Read(Path.Combine(output, "manifest.json")).Complete);
        Assert.Equal(await CleanRunAsync(tmp, input), ChildProcess.ShardHashes(output));
        Assert.False(File.Exists(Path.Combine(output, ".zetaprep.lock")));
    }

    [Fact]
    public async Task OverwriteKilledMidway_LeavesNoCardOfTheOldOutput()
    {
        using var tmp = new TempDir();
        var other = tmp.Sub("other");
        ImageFixtures.SolidFolder(other, classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(other, output)])).ExitCode);
        Assert.True(File.Exists(Path.Combine(output, "README.md")));
        var input = tmp.Sub("in");
        BigInputs(input, perClass: 60);
        using var pipe = await PipeInBatch15Async(input, perClass: 60);
        using (var child = ChildProcess.Start([.. Args(input, output), "--overwrite"]))
        {
            await pipe.HoldAsync(child);
            Assert.True(await child.WaitForShardsAsync(Path.Combine(output, "manifest.json"), Timeout, shards: 3), "the run ended before three shards were written");
            child.Kill();
            await child.WaitAsync(Timeout);
        }
        await pipe.RestoreFileAsync();
        // The old card (8 rows of other inputs) must not sit beside the new run's partial shards.
        Assert.False(File.Exists(Path.Combine(output, "README.md")));
        Assert.False(GenerationManifest.Read(Path.Combine(output, "manifest.json")).Complete);
    }

    [Fact]
    public async Task Resume_OfAFinishedOutput_ChangesNoByte_AndRepairsItsCard()
    {
        // compare resumes each method's shards before training on them, and train --resume compares the manifest's
        // SHA-256: a resume that rewrote the manifest (new start and wall times) made every interrupted compare fail.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--size", "16", "--n", "2", "--batch-size", "4", "--shard-rows", "4", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(output, f), File.ReadAllBytes);
        File.Delete(Path.Combine(output, "README.md"));
        var resumed = await CliRunner.RunAsync([.. args, "--resume", "--threads", "1"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        // It says so, rather than "wrote … rows" with the finished run's time.
        Assert.Equal($"nothing to do: {output} is complete, all 3 shard(s) (12 rows) intact; manifest: {Path.Combine(output, "manifest.json")}", resumed.Stdout.Trim());
        var after = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(output, f), File.ReadAllBytes);
        Assert.Equal(files.Keys, after.Keys);
        Assert.All(files, f => Assert.True(f.Value.AsSpan().SequenceEqual(after[f.Key]), f.Key + " changed"));
    }

    /// <param name="readEnds">
    /// Whether the blocked read ends after the signal (the pipe is fed) or never does (nobody writes to it, as with a hung
    /// network mount): the run must stop with its resume hint either way, not wait for the process to be killed.
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sigint_StopsCleanly_Exit130_PrintsResume_AndResumeCompletesIdentically(bool readEnds)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        BigInputs(input, perClass: 60);
        var output = tmp.Sub("out");
        using var pipe = await PipeInBatch15Async(input, perClass: 60);

        (int ExitCode, string Stdout, string Stderr) result;
        using (var child = ChildProcess.Start(Args(input, output)))
        {
            await pipe.HoldAsync(child);
            // Shards 0-14 written: the run is now held at batch 15 (one batch per shard), opening the pipe.
            Assert.True(await child.WaitForShardsAsync(Path.Combine(output, "manifest.json"), Timeout, shards: 15), "the run ended before 15 shards were written");
            child.Interrupt();
            // Fed, the read ends and the run winds down; never fed, the run must give up on that read.
            if (readEnds)
            {
                pipe.Feed();
            }

            result = await child.WaitAsync(TimeSpan.FromSeconds(60));
        }
        await pipe.RestoreFileAsync();
        Assert.True(result.ExitCode == 130, result.Stderr);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("resume with: zetaprep generate", line, StringComparison.Ordinal);
        Assert.EndsWith("--resume", line.TrimEnd(), StringComparison.Ordinal);
        Assert.Empty(ChildProcess.TempFiles(output));
        var partial = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.False(partial.Complete);
        Assert.InRange(partial.Shards.Count, 15, readEnds ? 16 : 15);
        Assert.Equal(partial.Shards.Select(s => s.File).Order(StringComparer.Ordinal), ChildProcess.ShardHashes(output).Keys.Select(k => k.Replace('\\', '/')));

        var resumed = await CliRunner.RunAsync([.. Args(input, output), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(await CleanRunAsync(tmp, input), ChildProcess.ShardHashes(output));
    }

    [Fact]
    public async Task Resume_RefusesChangedOptions_NamingThem()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 6);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--n", "2", "--size", "8", "--batch-size", "4", "--shard-rows", "4", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);

        var r = await CliRunner.RunAsync([.. args, "--gamma", "3.0", "--seed", "7", "--resume"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--resume: --gamma differs (manifest 2.8, now 3)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--seed differs (manifest 0, now 7)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("new --out", r.Stderr, StringComparison.Ordinal);

        // Threads never change bytes: resuming a finished run with another thread count is fine and rewrites nothing.
        var before = ChildProcess.ShardHashes(output);
        var again = await CliRunner.RunAsync([.. args, "--threads", "1", "--resume"]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(before, ChildProcess.ShardHashes(output));
    }

    [Fact]
    public async Task Resume_RefusesChangedInputs_ByFingerprint()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 6);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--n", "2", "--size", "8", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);
        File.WriteAllBytes(Path.Combine(input, "class_a", "img000.png"), ImageFixtures.Solid(9, 9, 1, 2, 3));

        var r = await CliRunner.RunAsync([.. args, "--resume"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("the input differs", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("fingerprint", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverwriteInterruptedInTheValidationPass_SaysNothingWasReplaced_AndToRunItAgain()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--n", "2", "--size", "8", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);
        var before = File.ReadAllText(Path.Combine(output, "manifest.json"));
        // A named pipe nobody writes to: the validation pass blocks reading it until the interrupt.
        var pipe = Path.Combine(input, "class_a", "zz.png");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [pipe]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        // A write end held open with nothing in it (read-write: its open never waits): once the run has the pipe open it
        // is in its validation pass (its Ctrl+C handler long installed), blocked on a read that never gets a byte.
        await using var writer = new FileStream(pipe, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        (int ExitCode, string Stdout, string Stderr) result;
        using (var child = ChildProcess.Start([.. args, "--gamma", "3", "--overwrite"]))
        {
            Assert.True(await child.WaitUntilOpenAsync(pipe, Timeout), "the run ended before it opened the pipe");
            child.Interrupt();
            result = await child.WaitAsync(TimeSpan.FromSeconds(60));
        }
        File.Delete(pipe);
        Assert.True(result.ExitCode == 130, result.Stderr);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("interrupted before anything was replaced", line, StringComparison.Ordinal);
        Assert.EndsWith("--gamma 3 --overwrite", line.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(Path.Combine(output, "manifest.json")));
    }

    [Fact]
    public async Task ResumeAndMerge_RefuseAChangedLabelFile_SameImages()
    {
        // Two classes swapped in the label CSV: the same images, another labelling. Shards from both must never be joined.
        using var tmp = new TempDir();
        var images = tmp.Sub("imgs");
        Directory.CreateDirectory(images);
        var ids = Enumerable.Range(0, 12).Select(i => $"img{i:D2}").ToList();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            File.WriteAllBytes(Path.Combine(images, id + ".png"), ImageFixtures.Solid(9, 9, (byte)(20 * i), 40, 60));
        }
        File.WriteAllText(tmp.Sub("a.csv"), "image,label\n" + string.Concat(ids.Select((id, i) => $"{id},{(i % 3 == 0 ? "x" : "y")}\n")));
        File.WriteAllText(tmp.Sub("b.csv"), "image,label\n" + string.Concat(ids.Select((id, i) => $"{id},{(i % 3 == 0 ? "y" : "x")}\n")));
        string[] Args(string csv, string output) =>
            ["generate", "--in", images, "--labels", tmp.Sub(csv), "--id-column", "image", "--label-column", "label", "--out", output,
             "--n", "2", "--batch-size", "4", "--shard-rows", "4", "--size", "8", "--quiet"];
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Args("a.csv", output))).ExitCode);
        File.Delete(Directory.EnumerateFiles(Path.Combine(output, "data")).Order(StringComparer.Ordinal).Last());
        var r = await CliRunner.RunAsync([.. Args("b.csv", output), "--resume"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("the images under --in or their labels changed", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args("a.csv", output), "--resume"])).ExitCode);

        var shared = tmp.Sub("shared");
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args("a.csv", shared), "--worker", "0/2"])).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args("b.csv", shared), "--worker", "1/2"])).ExitCode);
        var merge = await CliRunner.RunAsync("merge", shared);
        Assert.Equal(1, merge.ExitCode);
        Assert.Contains("input fingerprint differs", merge.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_OnEmptyDirectory_StartsFresh_OnForeignDirectory_IsRefused()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        var empty = tmp.Sub("empty");
        Directory.CreateDirectory(empty);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", empty, "--n", "2", "--size", "8", "--quiet", "--resume");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(GenerationManifest.Read(Path.Combine(empty, "manifest.json")).Complete);

        var foreign = tmp.Sub("foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        var refused = await CliRunner.RunAsync("generate", "--in", input, "--out", foreign, "--n", "2", "--size", "8", "--quiet", "--resume");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--resume found no manifest.json", refused.Stderr, StringComparison.Ordinal);
    }
}
