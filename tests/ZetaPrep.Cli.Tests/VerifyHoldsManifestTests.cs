using System.Text.Json.Nodes;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

/// <summary>
/// verify against an edited manifest.json, card or data area (the QA report's F1–F6, F9, F11): each edit that makes
/// loaders read other data than manifest.json describes is a problem, and the messages name the file and the fix.
/// </summary>
public sealed class VerifyHoldsManifestTests
{
    /// <summary>12 inputs, batch 4, shard rows 4: 12 rows in 3 shards of 4.</summary>
    private static async Task<string> GenerateAsync(TempDir tmp, string format = "parquet")
    {
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "3", "--gamma", "2.8", "--batch-size", "4",
            "--shard-rows", "4", "--size", "10", "--format", format, "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        return output;
    }

    private static JsonObject ReadJson(string output) => JsonNode.Parse(File.ReadAllText(Path.Combine(output, "manifest.json")))!.AsObject();

    private static void WriteJson(string output, JsonObject json) => File.WriteAllText(Path.Combine(output, "manifest.json"), json.ToJsonString());

    private static List<string> Problems(CliRunner.Result r) => [.. r.Stdout.Split('\n').Where(l => l.StartsWith("problem: ", StringComparison.Ordinal))];

    [Theory]
    [InlineData("../other/data/train-00000-of-00003.parquet", "has a '..' path segment")]
    [InlineData("/tmp/data/train-00000-of-00003.parquet", "is an absolute path")]
    [InlineData("data/./train-00000-of-00003.parquet", "has a '.' path segment")]
    [InlineData("data//train-00000-of-00003.parquet", "has an empty path segment")]
    [InlineData("data\\train-00000-of-00003.parquet", "has a backslash")]
    [InlineData("", "is empty")]
    public async Task AShardEntryOutsideTheOutput_IsNeverFollowed_ByVerifyOrInspect(string file, string why)
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var json = ReadJson(output);
        json["shards"]![0]!["file"] = file;
        WriteJson(output, json);

        foreach (var r in new[] { await CliRunner.RunAsync("verify", output), await CliRunner.RunAsync("inspect", output) })
        {
            Assert.Equal(1, r.ExitCode);
            var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
            Assert.Contains($"manifest.json: shards[0].file \"{file}\" {why}; ", line, StringComparison.Ordinal);
            Assert.Contains("restore the manifest.json the run wrote", line, StringComparison.Ordinal);
            Assert.DoesNotContain("OK:", r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AShardListedTwice_IsRefused()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var json = ReadJson(output);
        json["shards"]![1] = json["shards"]![0]!.DeepClone();
        WriteJson(output, json);
        File.Delete(Path.Combine(output, "data", "train-00001-of-00003.parquet"));

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("manifest.json: shards[1] lists \"data/train-00000-of-00003.parquet\" again (also shards[0])", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>F3: a shard deleted and its entry, plan record and totals edited out of manifest.json.</summary>
    [Fact]
    public async Task AShardDroppedFromTheManifest_FailsAgainstThePlan()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        Assert.Equal(0, (await CliRunner.RunAsync("verify", output)).ExitCode);
        File.Delete(Path.Combine(output, "data", "train-00002-of-00003.parquet"));
        var json = ReadJson(output);
        var dropped = json["shards"]!.AsArray()[2]!;
        json["shards"]!.AsArray().RemoveAt(2);
        json["plan"]!["shards"] = 2;
        json["plan"]!["rows"] = 8;
        json["totals"]!["rows"] = 8;
        json["totals"]!["bytes"] = json["totals"]!["bytes"]!.GetValue<long>() - dropped["bytes"]!.GetValue<long>();
        WriteJson(output, json);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var problems = Problems(r);
        Assert.Contains("problem: manifest.json: plan has 12 rows in 3 shards (input_count 12 × passes 1, as the shards' zetaprep metadata records), "
            + "the manifest lists 2 shards, 8 rows; data/train-00002-of-00003.parquet is missing; rerun the generate command with --resume, which writes the missing shards.", problems);
        Assert.Contains(problems, p => p.StartsWith("problem: manifest.json: its plan record says 8 rows, 3 batches, 2 shards, but its options give 12 rows, 3 batches, 3 shards", StringComparison.Ordinal));
        // The card, still the run's own (12 rows), is not blamed: manifest.json is what was edited.
        Assert.DoesNotContain("README.md", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>F9: the last shard's entry removed: the file is the run's own, and verify must not tell the user to delete it.</summary>
    [Fact]
    public async Task APlannedShardTheManifestLacks_IsNamedAsSuch_NeverToBeRemoved()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var json = ReadJson(output);
        json["shards"]!.AsArray().RemoveAt(2);
        WriteJson(output, json);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("problem: data/train-00002-of-00003.parquet: a shard of the plan that manifest.json does not list (loaders read it with the others); do not delete it", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("data/train-00002-of-00003.parquet is there but not listed", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("remove it", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>F9: fsspec and DuckDB globs do not let '*' cross '/': data/extra/x.parquet is not read by loaders.</summary>
    [Fact]
    public async Task AFileInASubfolderOfData_IsNotMatchedByDataFiles()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        Directory.CreateDirectory(Path.Combine(output, "data", "extra"));
        File.Copy(Path.Combine(output, "data", "train-00000-of-00003.parquet"), Path.Combine(output, "data", "extra", "x.parquet"));

        var r = await CliRunner.RunAsync("verify", output);
        Assert.True(r.ExitCode == 0, r.Stdout);
        Assert.Contains("warning: data/extra/x.parquet: unknown file where shards live", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("matched by", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>F4: options and input count edited in manifest.json; every Parquet shard records what its rows were made with.</summary>
    [Theory]
    [InlineData("options", "gamma", "3.5", "problem: manifest.json: options.gamma is 3.5, but data/train-00000-of-00003.parquet (and 2 more shard(s)) records gamma 2.8 in its zetaprep metadata")]
    [InlineData("options", "n", "2", "problem: manifest.json: options.n is 2, but data/train-00000-of-00003.parquet (and 2 more shard(s)) records n 3 in its zetaprep metadata")]
    [InlineData("options", "seed", 5, "problem: manifest.json: options.seed is 5, but data/train-00000-of-00003.parquet (and 2 more shard(s)) records seed 0 in its zetaprep metadata")]
    [InlineData("input", "count", 13, "problem: manifest.json: input.count is 13, but data/train-00000-of-00003.parquet (and 2 more shard(s)) records input_count 12 in its zetaprep metadata")]
    public async Task ManifestValuesEdited_DifferFromTheShardsGenerationMetadata(string section, string key, object value, string expected)
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var json = ReadJson(output);
        json[section]![key] = value is int i ? JsonValue.Create(i) : JsonValue.Create((string)value);
        WriteJson(output, json);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(Problems(r), p => p.StartsWith(expected, StringComparison.Ordinal) && p.EndsWith("restore the manifest.json the run wrote, or generate the output again.", StringComparison.Ordinal));
    }

    /// <summary>F5: the card's YAML parts that loaders use must be what manifest.json gives; the rest of the card is the user's.</summary>
    [Fact]
    public async Task TheCardsDataFilesAndNumExamples_MustMatchTheManifest_FreeTextMayChange()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var cardPath = Path.Combine(output, "README.md");
        var card = File.ReadAllText(cardPath);
        Assert.Contains("num_examples: 12\n", card, StringComparison.Ordinal);

        File.WriteAllText(cardPath, card.Replace("'data/*.parquet'", "'data/train-00000*.parquet'", StringComparison.Ordinal));
        var files = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, files.ExitCode);
        Assert.Equal(["problem: README.md: configs/data_files differ from what manifest.json gives (the card lacks `path: 'data/*.parquet'`); loaders read the card: put those lines back, or rerun the generate command with --resume, which writes the card again (replacing any edits to it)."],
            Problems(files));

        File.WriteAllText(cardPath, card.Replace("num_examples: 12\n", "num_examples: 3\n", StringComparison.Ordinal));
        var examples = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, examples.ExitCode);
        Assert.Contains("problem: README.md: dataset_info (features, splits/num_examples) differ from what manifest.json gives (the card lacks `num_examples: 12`)", examples.Stdout, StringComparison.Ordinal);

        // The same YAML re-saved by a YAML tool (quotes dropped, keys in another order) with the Hub's size fields added,
        // as push_to_hub and card editors leave it: it means the same, so it agrees.
        var front = card[..(card.IndexOf("\n---\n", 4, StringComparison.Ordinal) + 1)];
        var configs = front[front.IndexOf("configs:\n", StringComparison.Ordinal)..front.IndexOf("dataset_info:\n", StringComparison.Ordinal)];
        var resaved = front.Replace(configs, "", StringComparison.Ordinal)
            .Replace("'data/*.parquet'", "data/*.parquet", StringComparison.Ordinal)
            .Replace("'class_a'", "class_a", StringComparison.Ordinal)
            .Replace("num_examples: 12\n", "num_examples: 12\n    num_bytes: 5120\n  dataset_size: 5120\n  download_size: 4096\n", StringComparison.Ordinal)
            + configs.Replace("'data/*.parquet'", "data/*.parquet", StringComparison.Ordinal) + card[front.Length..];
        Assert.NotEqual(card, resaved);
        File.WriteAllText(cardPath, resaved);
        var yamlTool = await CliRunner.RunAsync("verify", output);
        Assert.True(yamlTool.ExitCode == 0, yamlTool.Stdout);
        Assert.DoesNotContain("README.md", yamlTool.Stdout, StringComparison.Ordinal);

        // A licence set as the card asks, and notes added to the body: the user's, never a problem.
        File.WriteAllText(cardPath, card.Replace("license: unknown", "license: cc-by-nc-4.0", StringComparison.Ordinal) + "\n## Notes\n\nOur own words.\n");
        var edited = await CliRunner.RunAsync("verify", output);
        Assert.True(edited.ExitCode == 0, edited.Stdout);

        File.Delete(cardPath);
        var missing = await CliRunner.RunAsync("verify", output);
        Assert.Equal(0, missing.ExitCode);
        Assert.Contains("warning: README.md: missing", missing.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// YAML that means the same as the card ZetaPrep writes agrees, however a YAML tool lays it out: a long class name
    /// folded over two lines (PyYAML's default width is 80), double-quoted keys and values, flow-style lists and maps.
    /// verify had compared lines and failed each of these (QA); a real change is still found through any of them.
    /// </summary>
    [Fact]
    public async Task ACardReSavedByAYamlTool_Agrees_HoweverItIsLaidOut()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        const string Long = "a very long class name that goes past the eighty column limit of yaml emitters easily";
        foreach (var name in new[] { Long, "b" })
        {
            ImageFixtures.SolidFolder(Path.Combine(tmp.Path, "one"), classes: 1, perClass: 3);
            Directory.CreateDirectory(input);
            Directory.Move(Path.Combine(tmp.Path, "one", "class_a"), Path.Combine(input, name));
        }
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "2", "--batch-size", "3", "--size", "8", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var cardPath = Path.Combine(output, "README.md");
        var card = File.ReadAllText(cardPath);
        string[] block = ["  data_files:\n", "  - split: train\n", "    path: 'data/*.parquet'\n"];
        Assert.Contains(string.Concat(block), card, StringComparison.Ordinal);
        Assert.Contains($"          '0': '{Long}'\n", card, StringComparison.Ordinal);

        var resaves = new Dictionary<string, string>
        {
            ["folded"] = card.Replace($"'{Long}'", Long.Replace(" goes past", "\n            goes past", StringComparison.Ordinal), StringComparison.Ordinal),
            ["double-quoted"] = card.Replace("configs:", "\"configs\":", StringComparison.Ordinal)
                .Replace("- split: train", "- \"split\": \"train\"", StringComparison.Ordinal)
                .Replace("'data/*.parquet'", "\"data/*.parquet\"", StringComparison.Ordinal),
            ["flow"] = card.Replace(string.Concat(block), "  data_files: [{split: train, path: data/*.parquet}]\n", StringComparison.Ordinal)
                .Replace("  splits:\n  - name: train\n    num_examples: 6\n", "  splits: [{name: train, num_examples: 6, num_bytes: 1234}]\n", StringComparison.Ordinal),
        };
        foreach (var (how, text) in resaves)
        {
            Assert.NotEqual(card, text);
            File.WriteAllText(cardPath, text);
            var r = await CliRunner.RunAsync("verify", output);
            Assert.True(r.ExitCode == 0, how + ": " + r.Stdout);
            Assert.DoesNotContain("README.md", r.Stdout, StringComparison.Ordinal);

            // The same layout with a value changed is still a problem.
            File.WriteAllText(cardPath, text.Replace("data/*.parquet", "data/train-0*.parquet", StringComparison.Ordinal));
            var changed = await CliRunner.RunAsync("verify", output);
            Assert.Equal(1, changed.ExitCode);
            Assert.Contains("problem: README.md: configs/data_files differ from what manifest.json gives (the card lacks `path: 'data/*.parquet'`)", changed.Stdout, StringComparison.Ordinal);
        }

        // A class renamed in the card: its line is named.
        File.WriteAllText(cardPath, card.Replace("'1': 'b'", "'1': 'c'", StringComparison.Ordinal));
        var renamed = await CliRunner.RunAsync("verify", output);
        Assert.Contains("(the card lacks `'1': 'b'`)", renamed.Stdout, StringComparison.Ordinal);
        // Front matter that is no YAML at all.
        File.WriteAllText(cardPath, card.Replace("configs:", "configs: [unclosed", StringComparison.Ordinal));
        var broken = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("problem: README.md: its YAML front matter does not parse (", broken.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// A card written by another zetaprep version may render its YAML otherwise with nothing wrong, and --resume refuses
    /// another version: a difference there is a warning naming both versions, not a failed verify.
    /// </summary>
    [Fact]
    public async Task ACardFromAnotherVersion_ThatDiffers_IsAWarning()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var current = ZetaPrep.Pipeline.DatasetGenerator.ToolVersion;
        // Another version of the same length (each digit changed), so the shards' footers keep their lengths.
        var other = new string([.. current.Select(c => char.IsAsciiDigit(c) ? (c == '9' ? '8' : '9') : c)]);
        // An older output: its manifest and every shard's generation metadata name the other version.
        var json = ReadJson(output);
        json["tool"]!["version"] = other;
        foreach (var shard in json["shards"]!.AsArray())
        {
            var path = Path.Combine(output, (string)shard!["file"]!);
            var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path));
            Assert.Contains("zetaprep " + current, text, StringComparison.Ordinal);
            var bytes = System.Text.Encoding.Latin1.GetBytes(text.Replace("zetaprep " + current, "zetaprep " + other, StringComparison.Ordinal));
            File.WriteAllBytes(path, bytes);
            shard["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        }
        WriteJson(output, json);
        var unchanged = await CliRunner.RunAsync("verify", output);
        Assert.True(unchanged.ExitCode == 0, unchanged.Stdout);

        var cardPath = Path.Combine(output, "README.md");
        File.WriteAllText(cardPath, File.ReadAllText(cardPath).Replace("num_examples: 12\n", "num_examples: 3\n", StringComparison.Ordinal));
        var r = await CliRunner.RunAsync("verify", output);
        Assert.True(r.ExitCode == 0, r.Stdout);
        Assert.Empty(Problems(r));
        Assert.Contains($"warning: README.md: dataset_info (features, splits/num_examples) differ from what manifest.json gives (the card lacks `num_examples: 12`); the output was written by zetaprep {other}, which may render the card otherwise (this is {current})", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>F6: in the folder format an image is one row's file: every missing or changed one is reported, and the rows after it are read.</summary>
    [Fact]
    public async Task Folder_EveryMissingOrChangedImage_IsItsOwnRowProblem()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp, "folder");
        File.Delete(Path.Combine(output, "images", "00000001.png"));
        File.Copy(Path.Combine(output, "images", "00000000.png"), Path.Combine(output, "images", "00000002.png"), overwrite: true);
        File.Delete(Path.Combine(output, "images", "00000003.png"));

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(
            ["problem: labels/train-00000-of-00003.parquet row 1: images/00000001.png: listed in labels/train-00000-of-00003.parquet but missing; rerun the generate command with --resume, which redoes that shard.",
             "problem: labels/train-00000-of-00003.parquet row 2: images/00000002.png: SHA-256 differs from the one recorded in labels/train-00000-of-00003.parquet; the image was changed or damaged; rerun the generate command with --resume, which redoes that shard.",
             "problem: labels/train-00000-of-00003.parquet row 3: images/00000003.png: listed in labels/train-00000-of-00003.parquet but missing; rerun the generate command with --resume, which redoes that shard."],
            Problems(r));
        Assert.Contains("FAILED: 3 shard(s), 12 row(s) checked, 3 problem(s)", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>F11: a Parquet footer damaged so that Parquet.Net throws its own exceptions: the message says the shard is corrupt, in our words.</summary>
    [Fact]
    public async Task ADamagedFooter_IsCorruptInOurWords_AndUnreadableFromTheStart()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var path = Path.Combine(output, "data", "train-00001-of-00003.parquet");
        var bytes = File.ReadAllBytes(path);
        for (var at = 9; at <= 40; at++)
        {
            bytes[^at] ^= 0x5a; // the footer's end: thrift field headers and lengths
        }
        File.WriteAllBytes(path, bytes);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(Problems(r), p => p.Contains("unreadable", StringComparison.Ordinal));
        Assert.StartsWith("problem: data/train-00001-of-00003.parquet: unreadable: Shard '", line, StringComparison.Ordinal);
        Assert.Contains("is corrupt or not a Parquet file (", line, StringComparison.Ordinal);
        Assert.DoesNotContain("after row", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Index was out of range", line, StringComparison.Ordinal);
    }

    /// <summary>F11: an image that does not decode is named once at the start of its line, not again inside the reason.</summary>
    [Fact]
    public async Task AnImageThatDoesNotDecode_NamesTheRowOnce()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp, "webdataset");
        var path = Path.Combine(output, "shard-000000.tar");
        var bytes = File.ReadAllBytes(path);
        var png = bytes.AsSpan().IndexOf("IDAT"u8);
        Assert.True(png > 0);
        bytes[png + 8] ^= 0xff; // the first image's zlib stream
        bytes[png + 9] ^= 0xff;
        File.WriteAllBytes(path, bytes);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(Problems(r), p => p.Contains("image does not decode", StringComparison.Ordinal));
        Assert.StartsWith("problem: shard-000000.tar row 0 (", line, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(line, "shard-000000.tar row 0"));
    }

    /// <summary>F11: the summary counts the shards it checked, not a missing one.</summary>
    [Fact]
    public async Task TheSummary_DoesNotCountAMissingShardAsChecked()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        File.Delete(Path.Combine(output, "data", "train-00001-of-00003.parquet"));
        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("problem: data/train-00001-of-00003.parquet: missing (listed in manifest.json).", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED: 2 of 3 shard(s), 8 row(s) checked, ", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>F11: a value of the wrong JSON type: manifest.json and the JSON path are named, never a .NET type.</summary>
    [Theory]
    [InlineData("complete", "yes")]
    [InlineData("shards", "none")]
    public async Task AValueOfTheWrongType_NamesThePath_NotADotNetType(string key, string value)
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var json = ReadJson(output);
        json[key] = value;
        WriteJson(output, json);

        var r = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains($"manifest.json: not a valid ZetaPrep manifest (the value at $.{key} has the wrong JSON type", line, StringComparison.Ordinal);
        Assert.Contains("restore the manifest.json the run wrote, or regenerate the output.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("ZetaPrep.Manifests", line, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// The one table of generation metadata (what a shard's footer records, and where verify finds the same value in
    /// manifest.json): every path it names holds, in the manifest a run wrote, the value that run's shards record.
    /// </summary>
    [Fact]
    public async Task EveryFooterValue_IsTheManifestValueAtItsPath()
    {
        using var tmp = new TempDir();
        var output = await GenerateAsync(tmp);
        var manifest = ReadJson(output);
        var shard = manifest["shards"]![0]!["file"]!.GetValue<string>();
        var footer = JsonNode.Parse((await ParquetShardReader.ReadMetadataAsync(Path.Combine(output, shard), CancellationToken.None)).GenerationJson)!.AsObject();

        var fields = GenerationMetadata.Fields(GenerationManifest.Read(Path.Combine(output, "manifest.json")));
        Assert.Equal(fields.Select(f => f.Key), footer.Select(p => p.Key));
        foreach (var field in fields)
        {
            Assert.Equal(footer[field.Key]?.ToJsonString() ?? "null", field.ValueJson());
            if (field.ManifestPath is null)
            {
                Assert.Equal(manifest["classes"]!.ToJsonString(), field.ValueJson());
                continue;
            }
            JsonNode? at = manifest;
            foreach (var part in field.ManifestPath.Split('.'))
            {
                at = at![part];
            }
            var value = at?.ToJsonString() ?? "null";
            // The manifest records the tool's name and version apart; the footer records "zetaprep VERSION".
            Assert.Equal(field.Key == "tool" ? $"\"zetaprep {at!.GetValue<string>()}\"" : value, field.ValueJson());
        }
    }
}
