using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

public sealed class VerifyCommandTests
{
    [Theory]
    [InlineData("parquet")]
    [InlineData("webdataset")]
    [InlineData("folder")]
    public async Task Verify_PassesAClean_Output_AndNamesEachKindOfDamage(string format)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "3", "--batch-size", "4",
            "--shard-rows", "4", "--size", "10", "--format", format, "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.Equal(3, manifest.Shards.Count);

        var clean = await CliRunner.RunAsync("verify", output);
        Assert.True(clean.ExitCode == 0, clean.Stdout + clean.Stderr);
        Assert.StartsWith("OK: 3 shard(s), 12 row(s) checked, 0 problem(s), 0 warning(s)", clean.Stdout, StringComparison.Ordinal);

        // An unknown file where shards live: a warning, not a failure...
        var stray = format switch
        {
            "parquet" => "data/stray.txt",
            "webdataset" => "stray.tar",
            _ => "images/stray.png",
        };
        File.WriteAllText(Path.Combine(output, stray), "x");
        var extra = await CliRunner.RunAsync("verify", output);
        Assert.Equal(0, extra.ExitCode);
        Assert.Contains($"warning: {stray}: unknown file", extra.Stdout, StringComparison.Ordinal);
        File.Delete(Path.Combine(output, stray));
        // A writer's temp file that a killed run left is named as what it is, with the way to clear it (a tar's, whose name
        // ends in no ".tar", had gone unmentioned: QA).
        {
            var shard = manifest.Shards[0].File;
            var temp = Path.Combine(output, Path.GetDirectoryName(shard)!, $".{Path.GetFileName(shard)}.tmp-0a1b2c3d4e5f");
            File.WriteAllText(temp, "x");
            var left = await CliRunner.RunAsync("verify", output);
            Assert.Equal(0, left.ExitCode);
            Assert.Contains($"warning: {Path.GetRelativePath(output, temp)}: an unfinished {shard} that a stopped run left (loaders skip hidden files); rerun the generate command with --resume, which deletes it and redoes its shard, or delete it.", left.Stdout, StringComparison.Ordinal);
            File.Delete(temp);
        }
        // ...unless the dataset's data_files glob matches it: loaders would read its rows with the shards.
        if (format != "folder")
        {
            var loaded = format == "parquet" ? "data/train-99999-of-99999.parquet" : "shard-999999.tar";
            File.Copy(Path.Combine(output, manifest.Shards[0].File), Path.Combine(output, loaded));
            var read = await CliRunner.RunAsync("verify", output);
            Assert.Equal(1, read.ExitCode);
            Assert.Contains($"problem: {loaded}: not in manifest.json, but matched by the dataset's data_files", read.Stdout, StringComparison.Ordinal);
            File.Delete(Path.Combine(output, loaded));
        }

        // A flipped byte in the middle of a shard (for folder: of an image, which its label part pins by SHA-256).
        var victim = format == "folder" ? Path.Combine(output, "images", "00000005.png") : Path.Combine(output, manifest.Shards[1].File);
        var original = File.ReadAllBytes(victim);
        var flipped = (byte[])original.Clone();
        flipped[flipped.Length / 2] ^= 0x40;
        File.WriteAllBytes(victim, flipped);
        var flip = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, flip.ExitCode);
        var name = format == "folder" ? "images/00000005.png" : manifest.Shards[1].File;
        Assert.Contains(flip.Stdout.Split('\n'), l => l.StartsWith("problem: ", StringComparison.Ordinal) && l.Contains(name, StringComparison.Ordinal));
        Assert.DoesNotContain(manifest.Shards[0].File, flip.Stdout, StringComparison.Ordinal);
        File.WriteAllBytes(victim, original);

        // A truncated shard.
        var last = Path.Combine(output, manifest.Shards[2].File);
        var whole = File.ReadAllBytes(last);
        File.WriteAllBytes(last, whole[..(whole.Length - 700)]);
        var cut = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, cut.ExitCode);
        Assert.Contains($"problem: {manifest.Shards[2].File}: {whole.Length - 700} bytes", cut.Stdout, StringComparison.Ordinal);
        File.WriteAllBytes(last, whole);

        // A missing shard.
        File.Delete(Path.Combine(output, manifest.Shards[0].File));
        var missing = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"problem: {manifest.Shards[0].File}: missing", missing.Stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED", missing.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Rows are checked in parallel chunks of 256: every damaged row is still reported, once, in row order, and the report
    /// is the same text at any --threads.
    /// </summary>
    [Fact]
    public async Task Verify_ReportsEveryDamagedRow_InRowOrder_AtAnyThreadCount()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 300);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "3", "--size", "8", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        var shard = Assert.Single(manifest.Shards);

        // Rewrite the shard with damaged rows spread over three chunks: garbage PNG bytes, or a label that does not sum to 1.
        var format = ShardFormats.Get(ShardFormat.Parquet);
        var rows = new List<ShardRow>();
        await foreach (var row in format.ReadRowsAsync(output, shard.File, CancellationToken.None))
        {
            rows.Add(row);
        }
        Assert.Equal(600, rows.Count);
        var damaged = new List<int>();
        for (var i = 5; i < rows.Count; i += 37)
        {
            rows[i] = i % 2 == 0 ? rows[i] with { ImageBytes = new byte[] { 1, 2, 3 } } : rows[i] with { Label = [.. rows[i].Label.Select(v => v * 2)] };
            damaged.Add(i);
        }
        var path = Path.Combine(output, shard.File);
        File.Delete(path);
        await using (var writer = await format.CreateWriterAsync(output, shard.File, new ShardSchema(manifest.Classes, "{}"), CancellationToken.None))
        {
            await writer.WriteRowGroupAsync(rows, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        var one = await CliRunner.RunAsync("verify", output, "--threads", "1");
        var four = await CliRunner.RunAsync("verify", output, "--threads", "4");
        Assert.Equal(1, one.ExitCode);
        Assert.Equal(one.Stdout, four.Stdout);
        var problems = one.Stdout.Split('\n').Where(l => l.StartsWith("problem: ", StringComparison.Ordinal)).ToList();
        // The shard's size and SHA-256 changed with the rewrite; then one line per damaged row, in order.
        Assert.Contains("SHA-256", problems[1], StringComparison.Ordinal);
        var rowLines = problems.Where(l => l.Contains(" row ", StringComparison.Ordinal)).ToList();
        Assert.Equal(damaged.Select(i => $"problem: {shard.File} row {i} "), rowLines.Select(l => l[..l.IndexOf('(', StringComparison.Ordinal)]));
        Assert.All(rowLines.Where((_, k) => damaged[k] % 2 == 0), l => Assert.Contains("image does not decode", l, StringComparison.Ordinal));
        Assert.All(rowLines.Where((_, k) => damaged[k] % 2 == 1), l => Assert.Contains("label sums to 2", l, StringComparison.Ordinal));

        var zero = await CliRunner.RunAsync("verify", output, "--threads", "0");
        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("--threads", zero.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OnADirectoryWithoutManifest_IsAUsageError()
    {
        using var tmp = new TempDir();
        var r = await CliRunner.RunAsync("verify", tmp.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("manifest.json", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("shards")]
    [InlineData("classes")]
    [InlineData("tool")]
    [InlineData("totals")]
    public async Task AManifestWithANullWhereAValueBelongs_IsNamedInOneLine_ByVerifyInspectAndResume(string field)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        string[] args = ["generate", "--in", input, "--out", output, "--n", "2", "--size", "8", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync(args)).ExitCode);
        var path = Path.Combine(output, "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json[field] = null;
        File.WriteAllText(path, json.ToJsonString());
        foreach (var r in new[] { await CliRunner.RunAsync("verify", output), await CliRunner.RunAsync("inspect", output), await CliRunner.RunAsync([.. args, "--resume"]) })
        {
            Assert.Equal(1, r.ExitCode);
            var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
            Assert.Contains("manifest.json: not a valid ZetaPrep manifest", line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("webdataset", "shardindex.json")]
    [InlineData("folder", "labels.parquet")]
    public async Task ADamagedOrSwappedIndex_FailsVerify_AndResumeWritesItAgain(string format, string index)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        string[] Args(string output, string seed) =>
            ["generate", "--in", input, "--out", output, "--n", "3", "--batch-size", "4", "--shard-rows", "4", "--size", "10", "--format", format, "--seed", seed, "--quiet"];
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(output, "1"))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(tmp.Sub("other"), "2"))).ExitCode);
        var path = Path.Combine(output, index);
        var good = File.ReadAllBytes(path);
        foreach (var bad in new[] { [], "{}"u8.ToArray(), File.ReadAllBytes(Path.Combine(tmp.Sub("other"), index)) })
        {
            File.WriteAllBytes(path, bad);
            var r = await CliRunner.RunAsync("verify", output);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"problem: {index}: differs from what the shards give", r.Stdout, StringComparison.Ordinal);
        }
        Assert.Equal(0, (await CliRunner.RunAsync([.. Args(output, "1"), "--resume"])).ExitCode);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal(0, (await CliRunner.RunAsync("verify", output)).ExitCode);
    }
    /// <summary>A folder shard whose image is deleted or replaced: verify names it, and the images its label part lists after it are still the shard's, never "unknown".</summary>
    [Theory]
    [InlineData("deleted")]
    [InlineData("replaced")]
    public async Task Verify_Folder_NeverCallsAnImageItsLabelPartLists_Unknown(string damage)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "3", "--batch-size", "8",
            "--shard-rows", "8", "--size", "8", "--format", "folder", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var victim = Path.Combine(output, "images", "00000005.png");
        if (damage == "deleted")
        {
            File.Delete(victim);
        }
        else
        {
            File.Copy(Path.Combine(output, "images", "00000009.png"), victim, overwrite: true);
        }

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(r.Stdout.Split('\n'), l => l.StartsWith("problem: ", StringComparison.Ordinal) && l.Contains("images/00000005.png", StringComparison.Ordinal));
        Assert.DoesNotContain("warning:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("0 warning(s)", r.Stdout, StringComparison.Ordinal);

        // A file the label parts do not list is still an unknown file.
        File.WriteAllBytes(Path.Combine(output, "images", "00000099.png"), File.ReadAllBytes(Path.Combine(output, "images", "00000009.png")));
        var stray = await CliRunner.RunAsync("verify", output);
        Assert.Single(stray.Stdout.Split('\n'), l => l.StartsWith("warning: ", StringComparison.Ordinal));
        Assert.Contains("warning: images/00000099.png: unknown file", stray.Stdout, StringComparison.Ordinal);
    }

    /// <summary>generate's output-directory locks (.zetaprep.lock, .zetaprep.worker-I-of-W.lock) may stay after a run: part of the output, never warned about.</summary>
    [Theory]
    [InlineData("parquet")]
    [InlineData("webdataset")]
    [InlineData("folder")]
    public async Task Verify_TreatsGeneratesLockFiles_AsKnown(string format)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 3);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "2", "--size", "8", "--format", format, "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        File.WriteAllBytes(Path.Combine(output, ".zetaprep.lock"), []);
        File.WriteAllBytes(Path.Combine(output, ".zetaprep.worker-0-of-2.lock"), []);
        File.WriteAllBytes(Path.Combine(output, ".zetaprep.worker-1-of-2.lock"), []);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("0 problem(s), 0 warning(s)", r.Stdout, StringComparison.Ordinal);
    }
    /// <summary>A shard entry's rows edited in manifest.json: the shard and the totals are named, with the rows the shards really hold.</summary>
    [Fact]
    public async Task Verify_ManifestRowsEdited_StatesTheRealCounts()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "2", "--batch-size", "4", "--shard-rows", "4", "--size", "8", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var path = Path.Combine(output, "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["shards"]![0]!["rows"] = 5;
        File.WriteAllText(path, json.ToJsonString());

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var problems = r.Stdout.Split('\n').Where(l => l.StartsWith("problem: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["problem: data/train-00000-of-00002.parquet: 4 row(s) read, manifest.json records 5.",
             "problem: manifest.json: plan has 8 rows in 2 shards (input_count 8 × passes 1, as the shards' zetaprep metadata records), the manifest lists 2 shards, 9 rows; restore the manifest.json the run wrote, or rerun the generate command with --resume.",
             "problem: manifest.json: totals.rows = 8 but its shard entries add up to 9 row(s); the shards hold 8."],
            problems);

        json["totals"]!["rows"] = 9;
        json["totals"]!["bytes"] = json["totals"]!["bytes"]!.GetValue<long>() + 1;
        File.WriteAllText(path, json.ToJsonString());
        var bytes = await CliRunner.RunAsync("verify", output);
        Assert.Contains("problem: manifest.json: totals.bytes = ", bytes.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("totals.rows", bytes.Stdout, StringComparison.Ordinal);
    }
}
