using System.Text.Json;

namespace ZetaPrep.Cli.Tests;

public sealed class AnalyzeCommandTests
{
    [Fact]
    public async Task Analyze_generated_shards_and_their_image_folder_prints_the_json_keys()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 3, perClass: 9);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--n", "4", "--batch-size", "8",
            "--shard-rows", "16", "--size", "16", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);

        var shards = await CliRunner.RunAsync("analyze", output, "--k", "5", "--max-samples", "20", "--device", "cpu", "--json");
        Assert.True(shards.ExitCode == 0, shards.Stderr);
        using (var json = JsonDocument.Parse(shards.Stdout))
        {
            var r = json.RootElement;
            Assert.Equal(5, r.GetProperty("k").GetInt32());
            Assert.Equal(20, r.GetProperty("samples").GetInt32());
            Assert.Equal(27, r.GetProperty("available").GetInt64());
            Assert.Equal("shards", r.GetProperty("input_kind").GetString());
            Assert.Equal(16, r.GetProperty("image_size").GetInt32());
            Assert.Equal(0.05, r.GetProperty("alpha_fo").GetDouble());
            Assert.False(r.GetProperty("neighbourhood_includes_point").GetBoolean());
            var mean = r.GetProperty("intrinsic_dim_mean").GetDouble();
            Assert.InRange(mean, 1, 5);
            Assert.True(r.GetProperty("intrinsic_dim_std").GetDouble() >= 0);
            Assert.Equal(20, r.GetProperty("dims_histogram").EnumerateObject().Sum(p => p.Value.GetInt32()));
        }

        var folder = await CliRunner.RunAsync("analyze", input, "--k", "4", "--size", "12", "--device", "cpu", "--json");
        Assert.True(folder.ExitCode == 0, folder.Stderr);
        using (var json = JsonDocument.Parse(folder.Stdout))
        {
            var r = json.RootElement;
            Assert.Equal(("imagefolder", 27, 4, 12, 432), (r.GetProperty("input_kind").GetString(), r.GetProperty("samples").GetInt32(),
                r.GetProperty("k").GetInt32(), r.GetProperty("image_size").GetInt32(), r.GetProperty("pixel_dim").GetInt32()));
            Assert.True(r.TryGetProperty("intrinsic_dim_mean", out _) && r.TryGetProperty("intrinsic_dim_std", out _));
        }

        // Same seed, same output; the text form states the neighbourhood.
        var again = await CliRunner.RunAsync("analyze", input, "--k", "4", "--size", "12", "--device", "cpu", "--json");
        Assert.Equal(folder.Stdout, again.Stdout);
        var text = await CliRunner.RunAsync("analyze", input, "--k", "4", "--device", "cpu");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("the point itself excluded", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("32×32 RGB", text.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--k", "1", "--k 1")]
    [InlineData("--k", "27", "--k 27")]
    [InlineData("--alpha-fo", "1.5", "--alpha-fo 1.5")]
    [InlineData("--alpha-fo", "0", "--alpha-fo 0")]
    public async Task Bad_options_are_one_line_usage_errors(string option, string value, string named)
    {
        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), classes: 3, perClass: 9);
        var r = await CliRunner.RunAsync("analyze", tmp.Sub("in"), option, value, "--size", "8", "--device", "cpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains(named, r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8000", "100", "--size 8000 with --max-samples 100: 27 images × 3·8000² bytes", "give --max-samples 11 or less at this size, or a smaller --size (at most 5148 for 27 images)")]
    [InlineData("16384", "20", "--size 16384 with --max-samples 20: 20 images × 3·16384² bytes", "not even 3 images fit at this size: give a smaller --size (at most 5982 for 20 images)")]
    public async Task Analyze_size_and_samples_over_the_array_limit_are_refused_before_loading(string size, string maxSamples, string named, string advice)
    {
        using var tmp = new TempDir();
        ImageFixtures.MixedFolder(tmp.Sub("in"), classes: 3, perClass: 9);
        var r = await CliRunner.RunAsync("analyze", tmp.Sub("in"), "--size", size, "--max-samples", maxSamples, "--k", "2", "--device", "cpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains(named, r.Stderr, StringComparison.Ordinal);
        Assert.Contains(advice, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_path_and_an_empty_folder_are_usage_errors()
    {
        using var tmp = new TempDir();
        var missing = await CliRunner.RunAsync("analyze", tmp.Sub("nope"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr, StringComparison.Ordinal);
        Directory.CreateDirectory(tmp.Sub("empty"));
        var empty = await CliRunner.RunAsync("analyze", tmp.Sub("empty"));
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains($"analyze {tmp.Sub("empty")}: empty directory", empty.Stderr, StringComparison.Ordinal);
        // analyze has no --in: the folder is named as its argument.
        Directory.CreateDirectory(tmp.Sub("empty/class_a"));
        var noImages = await CliRunner.RunAsync("analyze", tmp.Sub("empty"));
        Assert.Equal(2, noImages.ExitCode);
        Assert.Contains($"analyze {tmp.Sub("empty")}: no images found", noImages.Stderr, StringComparison.Ordinal);
        foreach (var r in new[] { empty, noImages })
        {
            Assert.DoesNotContain("--in", r.Stderr, StringComparison.Ordinal);
            Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        }
        // A file that is not a shard is not "not found".
        File.WriteAllText(tmp.Sub("image.png"), "x");
        var file = await CliRunner.RunAsync("analyze", tmp.Sub("image.png"));
        Assert.Equal(2, file.ExitCode);
        Assert.Contains("a file but not a .parquet shard", file.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_output_format_analyses_alike_and_a_k_above_the_images_gets_advice_that_works()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 9);
        var results = new List<string>();
        foreach (var format in new[] { "parquet", "webdataset", "folder" })
        {
            var g = await CliRunner.RunAsync("generate", "--in", input, "--out", tmp.Sub(format), "--n", "3", "--batch-size", "6", "--shard-rows", "7",
                "--size", "12", "--format", format, "--quiet");
            Assert.True(g.ExitCode == 0, g.Stderr);
            var r = await CliRunner.RunAsync("analyze", tmp.Sub(format), "--k", "4", "--max-samples", "11", "--device", "cpu", "--json");
            Assert.True(r.ExitCode == 0, $"{format}: {r.Stderr}");
            // All but the input's path.
            results.Add(r.Stdout.Replace(tmp.Sub(format), "OUT", StringComparison.Ordinal));
        }
        // The same rows in three layouts: the same sample (11 of 18 rows over 3 shards), the same pixels, the same figures.
        using (var json = JsonDocument.Parse(results[0]))
        {
            Assert.Equal((18L, 11, 12), (json.RootElement.GetProperty("available").GetInt64(), json.RootElement.GetProperty("samples").GetInt32(),
                json.RootElement.GetProperty("image_size").GetInt32()));
        }
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);

        // WebDataset tars without the manifest that names their format: said so, not "no images".
        File.Delete(Path.Combine(tmp.Sub("webdataset"), "manifest.json"));
        var bare = await CliRunner.RunAsync("analyze", tmp.Sub("webdataset"));
        Assert.Equal(2, bare.ExitCode);
        Assert.Equal($"zetaprep: error: {tmp.Sub("webdataset")}: holds WebDataset shards (shard-*.tar) but no manifest.json; analyze reads them through the manifest that names their format: give the whole output directory of 'zetaprep generate'.", bare.Stderr.Trim());
        // Any other tar beside an ImageFolder's class folders is no shard: the folder is analysed.
        File.WriteAllText(Path.Combine(input, "backup.tar"), "x");
        var withTar = await CliRunner.RunAsync("analyze", input, "--size", "8", "--k", "3", "--device", "cpu", "--json");
        Assert.True(withTar.ExitCode == 0, withTar.Stderr);

        // Nor a folder output's: its labels.parquet (file names, no images) is no shard to read.
        File.Delete(Path.Combine(tmp.Sub("folder"), "manifest.json"));
        var bareFolder = await CliRunner.RunAsync("analyze", tmp.Sub("folder"));
        Assert.Equal(2, bareFolder.ExitCode);
        Assert.Equal($"zetaprep: error: {tmp.Sub("folder")}: holds folder-format shards (labels/*.parquet) but no manifest.json; analyze reads them through the manifest that names their format: give the whole output directory of 'zetaprep generate'.", bareFolder.Stderr.Trim());

        var k = await CliRunner.RunAsync("analyze", input, "--size", "8", "--k", "40");
        Assert.Equal(2, k.ExitCode);
        Assert.Contains("gave 18; it holds no more images: use --k 17 or less", k.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_image_is_one_line_naming_it_and_what_to_do()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.MixedFolder(input, classes: 2, perClass: 4);
        var png = Path.Combine(input, "c1", "x1.png");
        var bytes = File.ReadAllBytes(png);
        File.WriteAllBytes(png, bytes[..(bytes.Length / 2)]);

        var folder = await CliRunner.RunAsync("analyze", input, "--k", "3", "--size", "8", "--device", "cpu");
        Assert.Equal(1, folder.ExitCode);
        var line = Assert.Single(folder.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"zetaprep: error: {png}: ", line, StringComparison.Ordinal);
        Assert.EndsWith("; replace or remove that image.", line, StringComparison.Ordinal);
    }
}
