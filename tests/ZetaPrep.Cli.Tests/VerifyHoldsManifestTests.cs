using System.Text.Json.Nodes;

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
}
