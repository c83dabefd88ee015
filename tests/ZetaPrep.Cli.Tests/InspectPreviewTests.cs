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

    /// <summary>preview's title gave N and γ for mixup and CutMix outputs, where they mean nothing (QA): as generate's closing line, the method instead.</summary>
    [Theory]
    [InlineData("zeta", "N=2, γ=2.8")]
    [InlineData("zeta,cutmix", "method zeta,cutmix, N=2, γ=2.8")]
    [InlineData("mixup", "method mixup")]
    [InlineData("cutmix", "method cutmix")]
    public async Task PreviewTitle_GivesNAndGamma_ForZetaOnly(string method, string mixed)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 5);
        var output = tmp.Sub("out");
        string[] zeta = method.Contains("zeta", StringComparison.Ordinal) ? ["--n", "2", "--gamma", "2.8"] : [];
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, .. zeta, "--method", method, "--batch-size", "5", "--size", "16", "--quiet"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal($"out: first 4 of 10 rows, {mixed}, 16×16", ZetaPrep.Inspection.ContactSheet.Title(ZetaPrep.Inspection.GeneratedDataset.Open(output), 4));
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
    public async Task Inspect_Json_MixupDrawOfLambdaOne_HasTheLargestFloat32AsGammaMax()
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
        // With α = 0.01 some λ is exactly 1: the partner's weight is 0 and γ = log₂(1/0) = ∞, recorded as the largest float32.
        Assert.Equal(float.MaxValue, doc.RootElement.GetProperty("gamma_max").GetSingle());
        Assert.Equal(6, doc.RootElement.GetProperty("total_rows").GetInt64());
    }

    [Theory]
    [InlineData("mixup", null)]
    [InlineData("cutmix", null)]
    [InlineData("none", null)]
    [InlineData("cutmix+zeta", "8")]
    [InlineData("zeta", "8")]
    public async Task Inspect_Json_GivesN_OnlyWhereTheTextDoes_ForRowsWithZetaWeights(string method, string? n)
    {
        // "n": "8" on a mixup or CutMix output, where N shapes nothing and the text leaves it out.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 5);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--method", method, "--batch-size", "10", "--size", "8", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);

        var r = await CliRunner.RunAsync("inspect", output, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var json = doc.RootElement.GetProperty("n");
        Assert.Equal(n, json.ValueKind == JsonValueKind.Null ? null : json.GetString());
        var text = await CliRunner.RunAsync("inspect", output);
        Assert.Equal(n is not null, text.Stdout.Contains($"N = {n}", StringComparison.Ordinal));
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

        // The sheet is PNG: a name that promises another format is refused before anything is written.
        foreach (var name in new[] { "sheet.jpg", "sheet", "sheet.png.webp" })
        {
            var wrong = await CliRunner.RunAsync("preview", output, "--rows", "4", "--out", tmp.Sub(name));
            Assert.Equal(2, wrong.ExitCode);
            var line = Assert.Single(wrong.Stderr.TrimEnd().Split('\n'));
            Assert.Contains($"--out {tmp.Sub(name)}: preview writes a PNG; give a file name ending in .png", line, StringComparison.Ordinal);
            Assert.False(File.Exists(tmp.Sub(name)));
        }
        Assert.Equal(0, (await CliRunner.RunAsync("preview", output, "--rows", "1", "--out", tmp.Sub("upper.PNG"))).ExitCode);
    }

    // The sources row of a sheet whose grid is full (rows = columns²): 30 px title, a 245 px cell per grid row, then a
    // 30 px title and 160 px tiles 170 px apart from x = 10; without thumbnails the row is one line of text (25 px).
    private const int SourcesRowWithTiles = 30 + 200;
    private const int SourcesRowWithoutTiles = 30 + 25;

    /// <summary>Solid PNGs of ColourOf(i) at imgs/ (even i) and imgs/sub/ (odd i), a mask file to --exclude, and labels.csv with ids without extension.</summary>
    private static Dictionary<string, (byte R, byte G, byte B)> LabelledFolder(string root, string csv, int count)
    {
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        var colours = new Dictionary<string, (byte, byte, byte)>();
        var lines = new List<string> { "image,cls" };
        for (var i = 0; i < count; i++)
        {
            var c = ImageFixtures.ColourOf(i);
            File.WriteAllBytes(Path.Combine(root, i % 2 == 1 ? "sub" : "", $"img{i}.png"), ImageFixtures.Solid(20 + i, 18, c.R, c.G, c.B));
            colours[$"img{i}"] = c;
            lines.Add($"img{i},{(i % 2 == 0 ? "a" : "b")}");
        }
        // No label row: reading the folder again without the run's --exclude would fail on it.
        File.WriteAllBytes(Path.Combine(root, "img0_mask.png"), ImageFixtures.Solid(20, 18, 255, 255, 255));
        File.WriteAllLines(csv, lines);
        return colours;
    }

    /// <summary>The same images as zip entries (deflated) beside the same label file.</summary>
    private static Dictionary<string, (byte R, byte G, byte B)> LabelledZip(string zip, string csv, int count)
    {
        var colours = new Dictionary<string, (byte, byte, byte)>();
        var entries = new List<(string, byte[])>();
        for (var i = 0; i < count; i++)
        {
            var c = ImageFixtures.ColourOf(i);
            entries.Add(($"images/img{i}.png", ImageFixtures.Solid(20 + i, 18, c.R, c.G, c.B)));
            colours[$"img{i}"] = c;
        }
        IsicFixtures.Zip(zip, [.. entries]);
        File.WriteAllLines(csv, ["image,cls", .. Enumerable.Range(0, count).Select(i => $"img{i},{(i % 2 == 0 ? "a" : "b")}")]);
        return colours;
    }

    private static async Task<string> GenerateFromAsync(TempDir tmp, params string[] input)
    {
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync(["generate", .. input, "--out", output, "--n", "2", "--batch-size", "4", "--size", "16", "--seed", "5", "--quiet"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return output;
    }

    /// <summary>Previews 4 rows (a 2×2 grid) and checks that each source tile of row 0 is its source's colour, not blank.</summary>
    private static async Task AssertSourceTilesShowAsync(TempDir tmp, string output, Dictionary<string, (byte R, byte G, byte B)> colours, int tolerance)
    {
        var first = (await ShardFormatTests.ReadAllAsync(output))[0];
        Assert.Equal(2, first.Sources.Length);
        var sheet = tmp.Sub("sheet.png");
        var r = await CliRunner.RunAsync("preview", output, "--rows", "4", "--out", sheet);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.DoesNotContain("note:", r.Stderr, StringComparison.Ordinal);
        var rgb = PngPixels.Decode(await File.ReadAllBytesAsync(sheet), out var width, out var height);
        Assert.Equal(30 + (2 * 245) + SourcesRowWithTiles, height);
        for (var s = 0; s < first.Sources.Length; s++)
        {
            var expected = colours[first.Sources[s]];
            int x0 = 10 + (s * 170), y0 = height - 200;
            // The inside of the tile (its 1 px frame and the resize's edge aside): every pixel the source's colour.
            for (var y = y0 + 4; y < y0 + 156; y += 3)
            {
                for (var x = x0 + 4; x < x0 + 156; x += 3)
                {
                    var o = ((y * width) + x) * 3;
                    var got = (rgb[o], rgb[o + 1], rgb[o + 2]);
                    Assert.True(Math.Abs(got.Item1 - expected.R) <= tolerance && Math.Abs(got.Item2 - expected.G) <= tolerance && Math.Abs(got.Item3 - expected.B) <= tolerance,
                        $"source tile {s} ({first.Sources[s]}) at ({x},{y}) is {got}, expected {expected}");
                }
            }
        }
    }

    private static async Task AssertNoteWithoutTilesAsync(TempDir tmp, string output, string expectedNote)
    {
        var sheet = tmp.Sub("sheet.png");
        var r = await CliRunner.RunAsync("preview", output, "--rows", "4", "--out", sheet);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var notes = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var note = Assert.Single(notes);
        Assert.StartsWith("zetaprep: note: source thumbnails skipped: ", note, StringComparison.Ordinal);
        Assert.Contains(expectedNote, note, StringComparison.Ordinal);
        using var bitmap = SKBitmap.Decode(sheet);
        Assert.Equal(30 + (2 * 245) + SourcesRowWithoutTiles, bitmap.Height);
    }

    [Fact]
    public async Task Preview_CsvLabelledFolder_IdsWithoutExtensionInSubFolders_ShowsTheSourcePixels()
    {
        using var tmp = new TempDir();
        var colours = LabelledFolder(tmp.Sub("imgs"), tmp.Sub("labels.csv"), 6);
        var output = await GenerateFromAsync(tmp, "--in", tmp.Sub("imgs"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls", "--exclude", "*mask*");
        await AssertSourceTilesShowAsync(tmp, output, colours, tolerance: 0);
    }

    [Fact]
    public async Task Preview_IsicPreset_FromDataDir_ShowsTheSourcePixelsFromTheZip()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2016(Path.Combine(tmp.Sub("data"), "isic2016"));
        // IsicFixtures.Jpeg(k) is ColourOf(k) for the k-th id, as a JPEG (chroma subsampled: a few levels off).
        var colours = truth.Keys.Select((id, k) => (id, ImageFixtures.ColourOf(k))).ToDictionary(e => e.id, e => e.Item2);
        var output = await GenerateFromAsync(tmp, "--in", "isic2016", "--data-dir", tmp.Sub("data"));
        await AssertSourceTilesShowAsync(tmp, output, colours, tolerance: 12);
    }

    [Fact]
    public async Task Preview_Isic2020_WithExcludeDuplicates_ReopensTheSameListing_AndShowsTheSourcePixels()
    {
        using var tmp = new TempDir();
        var truth = IsicFixtures.Write2020(tmp.Sub("isic2020"));
        var colours = truth.Keys.Select((id, k) => (id, ImageFixtures.ColourOf(k))).ToDictionary(e => e.id, e => e.Item2);
        // Without the recorded --exclude-duplicates the input would list 5 images where the manifest records 4.
        var output = await GenerateFromAsync(tmp, "--in", tmp.Sub("isic2020"), "--exclude-duplicates");
        await AssertSourceTilesShowAsync(tmp, output, colours, tolerance: 12);
    }

    [Fact]
    public async Task Preview_ZipWithLabels_ShowsTheSourcePixels_NotANoteThatTheZipIsGone()
    {
        using var tmp = new TempDir();
        var colours = LabelledZip(tmp.Sub("images.zip"), tmp.Sub("labels.csv"), 6);
        var output = await GenerateFromAsync(tmp, "--in", tmp.Sub("images.zip"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls");
        await AssertSourceTilesShowAsync(tmp, output, colours, tolerance: 0);
    }

    [Fact]
    public async Task Preview_InputGoneOrChanged_PrintsOneTrueNote_AndDrawsNoThumbnails()
    {
        using var tmp = new TempDir();
        LabelledZip(tmp.Sub("images.zip"), tmp.Sub("labels.csv"), 6);
        var output = await GenerateFromAsync(tmp, "--in", tmp.Sub("images.zip"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls");

        File.Move(tmp.Sub("images.zip"), tmp.Sub("moved.zip"));
        await AssertNoteWithoutTilesAsync(tmp, output, $"input zip {tmp.Sub("images.zip")} no longer exists");

        // Same name, other content: the sizes recorded in the manifest tell it is not the input the run read.
        LabelledZip(tmp.Sub("images.zip"), tmp.Sub("labels.csv"), 7);
        await AssertNoteWithoutTilesAsync(tmp, output, $"input file {tmp.Sub("images.zip")} changed since the output was generated");

        File.Move(tmp.Sub("moved.zip"), tmp.Sub("images.zip"), overwrite: true);
        File.Delete(tmp.Sub("labels.csv"));
        await AssertNoteWithoutTilesAsync(tmp, output, $"label file {tmp.Sub("labels.csv")} no longer exists");
    }

    [Fact]
    public async Task Preview_ManifestWithoutTheLabelFile_SaysSo_InsteadOfGuessingPaths()
    {
        using var tmp = new TempDir();
        LabelledZip(tmp.Sub("images.zip"), tmp.Sub("labels.csv"), 6);
        var output = await GenerateFromAsync(tmp, "--in", tmp.Sub("images.zip"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls");
        // As a manifest written before input.labels was recorded.
        var path = Path.Combine(output, "manifest.json");
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        var input = manifest["input"]!.AsObject();
        Assert.True(input.Remove("labels") && input.Remove("id_column") && input.Remove("label_column"));
        File.WriteAllText(path, manifest.ToJsonString());
        await AssertNoteWithoutTilesAsync(tmp, output, "the manifest does not record the label file");
    }

    [Fact]
    public async Task Preview_LabelledFolder_SourceImageDeleted_NamesIt_AndDrawsNoThumbnails()
    {
        using var tmp = new TempDir();
        LabelledFolder(tmp.Sub("imgs"), tmp.Sub("labels.csv"), 6);
        var output = await GenerateFromAsync(tmp, "--in", tmp.Sub("imgs"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls", "--exclude", "*mask*");
        var dominant = (await ShardFormatTests.ReadAllAsync(output))[0].Sources[0];
        var path = Directory.GetFiles(tmp.Sub("imgs"), dominant + ".png", SearchOption.AllDirectories).Single();
        File.Delete(path);
        await AssertNoteWithoutTilesAsync(tmp, output, $"image {dominant} has a label row but no image");
    }

    [Fact]
    public async Task Preview_ImageFolder_OneSourceDeleted_NamesIt_InsteadOfAnEmptyFrame()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        var colours = ImageFixtures.SolidFolder(input, classes: 2, perClass: 3);
        var output = await GenerateFromAsync(tmp, "--in", input);
        await AssertSourceTilesShowAsync(tmp, output, colours, tolerance: 0);

        var second = (await ShardFormatTests.ReadAllAsync(output))[0].Sources[1];
        File.Delete(Path.Combine(input, second));
        await AssertNoteWithoutTilesAsync(tmp, output, $"source {second} is no longer in input directory {input}");
    }
}
