using System.Text.Json;
using SkiaSharp;

namespace ZetaPrep.Cli.Tests;

public sealed class InspectPreviewTests
{
    private static async Task<string> GenerateAsync(TempDir tmp, string input, string format = "parquet")
    {
        var output = tmp.Sub("out-" + format);
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "2", "--gamma", "2.8",
            "--batch-size", "5", "--shard-rows", "5", "--size", "16", "--seed", "3", "--format", format, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return output;
    }

    [Theory]
    [InlineData("parquet")]
    [InlineData("webdataset")]
    public async Task Inspect_Json_ReportsShardsClassesLabelMassAndGamma(string format)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 5);
        var output = await GenerateAsync(tmp, input, format);
        var rows = await ShardFormatTests.ReadAllAsync(output);

        var r = await CliRunner.RunAsync("inspect", output, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(format, root.GetProperty("format").GetString());
        Assert.Equal(10, root.GetProperty("total_rows").GetInt64());
        Assert.Equal(2, root.GetProperty("shards").GetArrayLength());
        Assert.Equal(5, root.GetProperty("shards")[0].GetProperty("rows").GetInt64());
        Assert.Equal("2", root.GetProperty("n").GetString());
        Assert.Equal(2.8f, root.GetProperty("gamma_min").GetSingle());
        Assert.Equal(2.8f, root.GetProperty("gamma_max").GetSingle());
        Assert.Equal(2, root.GetProperty("sources_max").GetInt32());
        var classes = root.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(["class_a", "class_b"], classes.Select(c => c.GetProperty("name").GetString()));
        // Every original dominates exactly one output per pass: 5 rows per class.
        Assert.Equal([5L, 5L], classes.Select(c => c.GetProperty("dominant_rows").GetInt64()));
        for (var c = 0; c < 2; c++)
        {
            Assert.Equal(rows.Sum(x => (double)x.Label[c]), classes[c].GetProperty("label_mass").GetDouble(), 4);
        }
        Assert.Equal(10.0, classes.Sum(c => c.GetProperty("label_mass").GetDouble()), 4);

        var text = await CliRunner.RunAsync("inspect", output);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("10 rows", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("class_b", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("dominant       5", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_Json_MixupWithInfiniteGamma_WritesNamedLiteral()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 3);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--method", "mixup", "--alpha", "0.01", "--batch-size", "6", "--size", "8", "--seed", "3", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);

        var r = await CliRunner.RunAsync("inspect", output, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        // With α = 0.01 some λ is exactly 1: the partner's weight is 0 and γ = log₂(1/0) = ∞, written as metrics.jsonl writes it.
        Assert.Equal("Infinity", doc.RootElement.GetProperty("gamma_max").GetString());
        Assert.Equal(6, doc.RootElement.GetProperty("total_rows").GetInt64());
    }

    [Fact]
    public async Task Preview_WritesADecodablePng_OfTheExpectedSize_WithOrWithoutTheInputs()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 5);
        var output = await GenerateAsync(tmp, input);
        var sheet = tmp.Sub("sheet.png");
        var r = await CliRunner.RunAsync("preview", output, "--rows", "9", "--out", sheet);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using (var bitmap = SKBitmap.Decode(sheet))
        {
            Assert.NotNull(bitmap);
            // 9 tiles → 3×3 grid of 170×245 cells, a 30 px title, and a sources row (title + tile + two caption lines + pad).
            Assert.Equal(10 + (3 * 170), bitmap.Width);
            Assert.Equal(30 + (3 * 245) + 30 + 200, bitmap.Height);
        }

        Directory.Delete(input, recursive: true);
        var without = await CliRunner.RunAsync("preview", output, "--rows", "4", "--out", sheet);
        Assert.True(without.ExitCode == 0, without.Stderr);
        Assert.Contains("no longer exists", without.Stderr, StringComparison.Ordinal);
        using var again = SKBitmap.Decode(sheet);
        Assert.Equal((10 + (2 * 170), 30 + (2 * 245) + 30 + 25), (again.Width, again.Height));
    }
}
