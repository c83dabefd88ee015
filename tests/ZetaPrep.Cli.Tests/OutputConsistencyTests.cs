using System.Text.Json;
using System.Text.Json.Nodes;

namespace ZetaPrep.Cli.Tests;

/// <summary>verify, inspect and analyze on outputs that are not what they seem: a manifest whose classes differ from the shards', an interrupted run, workers not yet merged.</summary>
public sealed class OutputConsistencyTests
{
    /// <summary>12 rows in 3 shards of 4, classes class_a, class_b.</summary>
    private static async Task<string> GenerateAsync(TempDir tmp, string format = "parquet", params string[] extra)
    {
        var input = tmp.Sub("in");
        if (!Directory.Exists(input))
        {
            ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        }
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--n", "2", "--batch-size", "4", "--shard-rows", "4",
            "--size", "8", "--format", format, "--quiet", .. extra]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return output;
    }

    private static void EditManifest(string output, Action<JsonObject> edit)
    {
        var path = Path.Combine(output, "manifest.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>What a run stopped after its first shard leaves: complete: false, one of three shards listed and present.</summary>
    private static void Interrupt(string output)
    {
        EditManifest(output, m =>
        {
            var shards = m["shards"]!.AsArray();
            while (shards.Count > 1)
            {
                File.Delete(Path.Combine(output, shards[^1]!["file"]!.GetValue<string>()));
                shards.RemoveAt(shards.Count - 1);
            }
            m["totals"]!["rows"] = shards[0]!["rows"]!.GetValue<long>();
            m["totals"]!["bytes"] = shards[0]!["bytes"]!.GetValue<long>();
            m["complete"] = false;
        });
        File.Delete(Path.Combine(output, "README.md"));
    }

    private static void SwapClasses(string output) => EditManifest(output, m =>
    {
        var classes = m["classes"]!.AsArray();
        var first = classes[0]!.GetValue<string>();
        classes[0] = classes[1]!.GetValue<string>();
        classes[1] = first;
    });

    [Fact]
    public async Task ManifestClassesThatDifferFromTheShards_FailVerify_AndInspectShowsTheShardsNames_WithAWarning()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var before = await CliRunner.RunAsync("inspect", output, "--json");
        var sheetBefore = tmp.Sub("before.png");
        Assert.Equal(0, (await CliRunner.RunAsync("preview", output, "--out", sheetBefore)).ExitCode);
        SwapClasses(output);

        var verify = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, verify.ExitCode);
        var problem = Assert.Single(verify.Stdout.Split('\n'), l => l.StartsWith("problem: ", StringComparison.Ordinal));
        Assert.Contains("manifest.json: classes [class_b, class_a] differ from the class names [class_a, class_b]", problem, StringComparison.Ordinal);
        Assert.Contains("data/train-00000-of-00003.parquet (and 2 more shard(s))", problem, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync("inspect", output, "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using (var doc = JsonDocument.Parse(json.Stdout))
        using (var was = JsonDocument.Parse(before.Stdout))
        {
            // The names (and the label mass under each) are the shards', as loaders and train see them.
            Assert.Equal(was.RootElement.GetProperty("classes").ToString(), doc.RootElement.GetProperty("classes").ToString());
            var warning = Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray()).GetString();
            Assert.Contains("classes [class_b, class_a] differ", warning, StringComparison.Ordinal);
            Assert.Empty(was.RootElement.GetProperty("warnings").EnumerateArray());
        }
        var text = await CliRunner.RunAsync("inspect", output);
        Assert.StartsWith("warning: manifest.json: classes [class_b, class_a] differ", text.Stdout, StringComparison.Ordinal);

        // preview labelled the tiles with the manifest's names, in silence (QA): the shards' names, and a note.
        var sheet = tmp.Sub("after.png");
        var preview = await CliRunner.RunAsync("preview", output, "--out", sheet);
        Assert.True(preview.ExitCode == 0, preview.Stderr);
        var note = Assert.Single(preview.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("zetaprep: note: manifest.json: classes [class_b, class_a] differ from the class names [class_a, class_b]", note, StringComparison.Ordinal);
        Assert.EndsWith("Drawn: the shards' names.", note, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(sheetBefore), await File.ReadAllBytesAsync(sheet));
    }

    [Fact]
    public async Task AManifestSayingCompleteWithNoShardsListed_IsNamed_ByInspectAndAnalyze()
    {
        // inspect printed a summary with an empty "method zeta:" line and no word of the missing shards; analyze's error
        // named no file (QA).
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        EditManifest(output, m => m["shards"] = new JsonArray());

        var text = await CliRunner.RunAsync("inspect", output);
        Assert.True(text.ExitCode == 0, text.Stderr);
        var lines = text.Stdout.Split('\n');
        Assert.Equal($"warning: manifest.json says complete but lists 0 of the plan's 3 shard(s), so this summary covers those only; it was changed after generation: restore the manifest.json the run wrote, or check the output with 'zetaprep verify {output}'.", lines[0]);
        Assert.Equal("method zeta: no rows", lines[2]);
        Assert.DoesNotContain("sources per row", text.Stdout, StringComparison.Ordinal);

        var analyze = await CliRunner.RunAsync("analyze", output);
        Assert.Equal(1, analyze.ExitCode);
        Assert.Equal($"zetaprep: error: {Path.Combine(output, "manifest.json")}: lists no shards, so the output has no rows to analyze; generate it again.", analyze.Stderr.Trim());
    }

    [Theory]
    [InlineData("webdataset")]
    [InlineData("folder")]
    public async Task FormatsWhoseShardsRecordNoClassNames_AreNotFlagged(string format)
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp, format);
        var verify = await CliRunner.RunAsync("verify", output);
        Assert.True(verify.ExitCode == 0, verify.Stdout);
        var json = await CliRunner.RunAsync("inspect", output, "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Empty(doc.RootElement.GetProperty("warnings").EnumerateArray());
        Assert.True(doc.RootElement.GetProperty("complete").GetBoolean());
    }

    [Fact]
    public async Task AnInterruptedRun_IsNamedIncomplete_ByPreview_AsInspectWordsIt()
    {
        // preview drew the first rows of an unfinished run without a word, where inspect warns and verify fails.
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var sheet = tmp.Sub("sheet.png");
        var whole = await CliRunner.RunAsync("preview", output, "--rows", "2", "--out", sheet);
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        Assert.DoesNotContain("incomplete", whole.Stderr, StringComparison.Ordinal);

        Interrupt(output);
        var r = await CliRunner.RunAsync("preview", output, "--rows", "2", "--out", sheet);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("zetaprep: note: incomplete: manifest.json says complete: false (1 of 3 shards written), so this sheet shows rows of those shards only; finish the run with 'zetaprep generate ... --resume' (same options).",
            r.Stderr.Split('\n')[0]);
        Assert.StartsWith("wrote ", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInterruptedRun_IsNamedIncomplete_ByInspect_AndRefusedByAnalyze()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        Interrupt(output);

        var text = await CliRunner.RunAsync("inspect", output);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.StartsWith("warning: incomplete: manifest.json says complete: false (1 of 3 shards written)", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("format parquet, 1 of 3 shard(s) (incomplete), 4 rows", text.Stdout, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync("inspect", output, "--json");
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            Assert.False(doc.RootElement.GetProperty("complete").GetBoolean());
            Assert.Equal(3, doc.RootElement.GetProperty("planned_shards").GetInt32());
            Assert.Contains("incomplete", Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray()).GetString(), StringComparison.Ordinal);
        }

        var analyze = await CliRunner.RunAsync("analyze", output, "--k", "2");
        Assert.Equal(1, analyze.ExitCode);
        Assert.Empty(analyze.Stdout);
        var line = Assert.Single(analyze.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("complete: false, 1 of 3 shards written", line, StringComparison.Ordinal);
        Assert.Contains("--resume", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnmergedWorkerOutput_IsRefusedByAnalyzeVerifyAndInspect_NamingMerge()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp, "parquet", "--worker", "0/2");
        Assert.True(File.Exists(Path.Combine(output, "manifest.worker-0-of-2.json")));

        foreach (var verb in new[] { "analyze", "verify", "inspect" })
        {
            var r = await CliRunner.RunAsync(verb, output);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Empty(r.Stdout);
            var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
            Assert.Contains("manifest.worker-0-of-2.json", line, StringComparison.Ordinal);
            Assert.Contains($"zetaprep merge {output}", line, StringComparison.Ordinal);
        }
    }
    [Fact]
    public async Task VerifyAndInspect_GivenAFile_SayItIsAFile()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        foreach (var verb in new[] { "verify", "inspect" })
        {
            var r = await CliRunner.RunAsync(verb, Path.Combine(output, "manifest.json"));
            Assert.Equal(2, r.ExitCode);
            var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
            Assert.Contains($"{Path.Combine(output, "manifest.json")}: is a file, not a directory", line, StringComparison.Ordinal);
            Assert.Contains($"(here: {output})", line, StringComparison.Ordinal);
            Assert.DoesNotContain("not found", line, StringComparison.Ordinal);
        }
    }
}
