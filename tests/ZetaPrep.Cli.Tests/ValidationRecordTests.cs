using System.Security.Cryptography;
using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

/// <summary>
/// The validation pass's record (OUT/.zetaprep-validated.jsonl): kept while a generation is unfinished, reused by
/// <c>--resume</c> (a later worker, a requeued one) instead of reading and hashing every input again, with each input's
/// SHA-256 checked as it is decoded; removed when the run completes or by merge.
/// </summary>
public sealed class ValidationRecordTests
{
    private const string Record = ".zetaprep-validated.jsonl";

    private static readonly string[] Options = ["--size", "16", "--n", "3", "--batch-size", "4", "--shard-rows", "4", "--quiet"];

    [Theory]
    [InlineData("fail")]
    [InlineData("skip")]
    public async Task A_later_worker_reuses_the_record_and_the_merge_equals_a_single_run(string onError)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 12);
        if (onError == "skip")
        {
            File.WriteAllBytes(Path.Combine(input, "c1", "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        }
        string[] options = [.. Options, "--on-error", onError];

        var single = tmp.Sub("single");
        Assert.Equal(0, (await CliRunner.RunAsync(["generate", "--in", input, "--out", single, .. options])).ExitCode);
        Assert.False(File.Exists(Path.Combine(single, Record)), "a complete run leaves no record");

        var output = tmp.Sub("out");
        var first = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", "0/2", "--resume", "--profile", .. options]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.DoesNotContain("verdicts", first.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("{\"zetaprep_validated\":1,", File.ReadLines(Path.Combine(output, Record)).First(), StringComparison.Ordinal);

        var second = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", "1/2", "--resume", "--profile", .. options]);
        Assert.True(second.ExitCode == 0, second.Stderr);
        var listed = onError == "skip" ? 25 : 24;
        Assert.Contains($"validation: the resumed run's verdicts on {listed} input(s)", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("Validate          0.000       0", second.Stderr, StringComparison.Ordinal);

        var merge = await CliRunner.RunAsync("merge", output);
        Assert.True(merge.ExitCode == 0, merge.Stderr);
        Assert.False(File.Exists(Path.Combine(output, Record)), "merge removes the record");
        Assert.Equal(Hashes(single), Hashes(output));
        var a = GenerationManifest.Read(Path.Combine(single, "manifest.json"));
        var b = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(a.Input.Fingerprint, b.Input.Fingerprint);
        Assert.Equal(a.Skipped, b.Skipped);
        Assert.Equal(onError == "skip" ? 1 : 0, b.Skipped.Count);
    }

    /// <summary>The job-array pattern: one --validate-only step, then every worker (and a single-machine --resume) skips the pass.</summary>
    [Fact]
    public async Task Validate_only_lets_every_following_resumed_run_skip_the_pass()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 12);
        var single = tmp.Sub("single");
        Assert.Equal(0, (await CliRunner.RunAsync(["generate", "--in", input, "--out", single, .. Options])).ExitCode);

        var output = tmp.Sub("out");
        var v = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--validate-only", .. Options]);
        Assert.True(v.ExitCode == 0, v.Stderr);
        Assert.StartsWith("validated 24 input(s), fingerprint ", v.Stdout, StringComparison.Ordinal);
        Assert.Contains("; plan: 24 rows in 6 batch(es), 6 shard(s);", v.Stdout, StringComparison.Ordinal);
        Assert.Equal(
            GenerationManifest.Read(Path.Combine(single, "manifest.json")).Input.Fingerprint[..12],
            v.Stdout.Split("fingerprint ")[1][..12]);
        Assert.Equal([Path.Combine(output, Record)], Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories));
        foreach (var w in new[] { "0/2", "1/2" })
        {
            var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", w, "--resume", "--profile", .. Options]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("the resumed run's verdicts on 24 input(s)", r.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(0, (await CliRunner.RunAsync("merge", output)).ExitCode);
        Assert.Equal(Hashes(single), Hashes(output));

        // Single machine: the directory holding only the record counts as empty, and --resume starts there.
        var alone = tmp.Sub("alone");
        Assert.Equal(0, (await CliRunner.RunAsync(["generate", "--in", input, "--out", alone, "--validate-only", .. Options])).ExitCode);
        var run = await CliRunner.RunAsync(["generate", "--in", input, "--out", alone, "--resume", "--profile", .. Options]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("the resumed run's verdicts on 24 input(s)", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(Hashes(single), Hashes(alone));
        Assert.False(File.Exists(Path.Combine(alone, Record)));

        // A plan that cannot run (a batch of 24 images of 8192² is more than one buffer holds) is refused as a run would be.
        var tooBig = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Path + "/big", "--validate-only", "--size", "8192", "--quiet");
        Assert.Equal(2, tooBig.ExitCode);
        Assert.Contains("--batch-size 64", tooBig.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Path + "/big"));

        // A bad input stops --validate-only like a run (one line naming it) and nothing is written.
        File.WriteAllBytes(Path.Combine(input, "c0", "bad.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var fresh = tmp.Path + "/fresh";
        var bad = await CliRunner.RunAsync(["generate", "--in", input, "--out", fresh, "--validate-only", .. Options]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("bad.png", Assert.Single(bad.Stderr.TrimEnd().Split('\n')), StringComparison.Ordinal);
        Assert.False(Directory.Exists(fresh));
    }

    [Fact]
    public async Task An_input_changed_since_the_recorded_pass_stops_the_resumed_run_naming_it()
    {
        using var tmp = new TempDir();
        var (input, output) = await WorkerZeroRanAsync(tmp);

        // Same sizes, other bytes: the listing still matches the record, so only the check at decode time can tell.
        foreach (var file in Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".txt", StringComparison.Ordinal)))
        {
            var bytes = File.ReadAllBytes(file);
            bytes[bytes.Length / 2] ^= 0x20;
            File.WriteAllBytes(file, bytes);
        }
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", "1/2", "--resume", .. Options]);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("changed since this output's inputs were validated", line, StringComparison.Ordinal);
        Assert.Contains(input, line, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(output, ".*.tmp-*", SearchOption.AllDirectories));
        Assert.Empty(GenerationManifest.Read(Path.Combine(output, "manifest.worker-1-of-2.json")).Shards);
    }

    [Fact]
    public async Task A_record_the_listing_no_longer_matches_is_not_used()
    {
        using var tmp = new TempDir();
        var (input, output) = await WorkerZeroRanAsync(tmp);

        // One input grows by a byte (a JPEG still decodes): the pass runs again and finds the input changed.
        var jpeg = Directory.EnumerateFiles(input, "*.jpeg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.AppendAllText(jpeg, "\0");
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", "0/2", "--resume", "--profile", .. Options]);
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("verdicts", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("the images under --in or their labels changed since the first run", r.Stderr, StringComparison.Ordinal);

        // A damaged record is no record either.
        File.WriteAllText(Path.Combine(output, Record), "{\"zetaprep_validated\":1,\"key\":");
        File.WriteAllBytes(jpeg, File.ReadAllBytes(jpeg)[..^1]);
        var again = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", "0/2", "--resume", "--profile", .. Options]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.DoesNotContain("verdicts", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A 24-image input and an output where worker 0 of 2 has run, leaving the validation record.</summary>
    private static async Task<(string Input, string Output)> WorkerZeroRanAsync(TempDir tmp)
    {
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 12);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--worker", "0/2", "--resume", .. Options])).ExitCode);
        Assert.True(File.Exists(Path.Combine(output, Record)));
        return (input, output);
    }

    private static Dictionary<string, string> Hashes(string outDir) =>
        Directory.EnumerateFiles(Path.Combine(outDir, "data"))
            .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
}
