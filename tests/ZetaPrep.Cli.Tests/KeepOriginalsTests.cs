using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

public sealed class KeepOriginalsTests
{
    [Fact]
    public async Task KeepOriginals_WritesEachResizedOriginal_BeforeItsBatchesMixedRows()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        var colours = ImageFixtures.SolidFolder(input, classes: 2, perClass: 5); // 10 inputs: batches 4, 4, 2
        string[] common = ["--in", input, "--n", "2", "--batch-size", "4", "--size", "6", "--shard-rows", "8", "--seed", "4", "--quiet"];
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync(["generate", "--out", output, "--keep-originals", .. common]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        Assert.True(manifest.Options.KeepOriginals);
        Assert.Equal(20, manifest.Totals.Rows);
        // The plan counts originals: 8 rows per full batch → one batch per shard at --shard-rows 8.
        Assert.Equal([8L, 8L, 4L], manifest.Shards.Select(s => s.Rows));

        var rows = new List<ShardRow>();
        foreach (var shard in manifest.Shards)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(Path.Combine(output, shard.File), CancellationToken.None))
            {
                rows.Add(row);
            }
        }
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"{i:D8}.png"), rows.Select(x => x.ImagePath));
        Assert.Equal(
            [true, true, true, true, false, false, false, false, true, true, true, true, false, false, false, false, true, true, false, false],
            rows.Select(x => x.Original));
        var originals = rows.Where(x => x.Original).ToList();
        Assert.Equal(colours.Keys.Order(StringComparer.Ordinal), originals.Select(x => x.Sources.Single()).Order(StringComparer.Ordinal));
        foreach (var o in originals)
        {
            Assert.Equal([1f], o.Weights);
            Assert.Equal(0f, o.Gamma);
            Assert.Equal(1f, o.Label[o.Dominant]);
            Assert.Equal(1f, o.Label.Sum());
            Assert.Equal(o.Sources[0].StartsWith("class_a", StringComparison.Ordinal) ? 0 : 1, o.Dominant);
            // Solid inputs come back exactly: the original is the decoded, resized input itself.
            var c = colours[o.Sources[0]];
            var rgb = PngPixels.Decode(o.ImageBytes.ToArray(), out var w, out var h);
            Assert.Equal((6, 6), (w, h));
            for (var p = 0; p < rgb.Length; p += 3)
            {
                Assert.Equal((c.R, c.G, c.B), (rgb[p], rgb[p + 1], rgb[p + 2]));
            }
        }
        // Each batch's originals are the same inputs its mixed rows are dominated by, in the same order.
        for (var batchStart = 0; batchStart < 20; batchStart += 8)
        {
            var m = Math.Min(4, (20 - batchStart) / 2);
            for (var k = 0; k < m; k++)
            {
                Assert.Equal(rows[batchStart + k].Sources[0], rows[batchStart + m + k].Sources[0]);
            }
        }

        // The mixed rows are the ones a run without originals writes.
        var plain = tmp.Sub("plain");
        Assert.Equal(0, (await CliRunner.RunAsync("generate", "--out", plain, "--in", input, "--n", "2", "--batch-size", "4", "--size", "6", "--shard-rows", "4", "--seed", "4", "--quiet")).ExitCode);
        var mixed = new List<ShardRow>();
        foreach (var shard in GenerationManifest.Read(Path.Combine(plain, "manifest.json")).Shards)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(Path.Combine(plain, shard.File), CancellationToken.None))
            {
                mixed.Add(row);
            }
        }
        var kept = rows.Where(x => !x.Original).ToList();
        Assert.Equal(mixed.Count, kept.Count);
        Assert.All(mixed, x => Assert.False(x.Original));
        for (var i = 0; i < mixed.Count; i++)
        {
            Assert.Equal(mixed[i].ImageBytes.ToArray(), kept[i].ImageBytes.ToArray());
            Assert.Equal(mixed[i].Sources, kept[i].Sources);
        }
    }

    /// <summary>An unmixed output is a resized original: beside --keep-originals it would be a second copy of one (QA: --method
    /// none --keep-originals wrote 60 rows of 30 distinct images), so the pair is refused before anything is written.</summary>
    [Theory]
    [InlineData("--method", "none", "--method none already writes each input once")]
    [InlineData("--prob", "0.5", "with --prob 0.5 the outputs left unmixed are resized originals too")]
    [InlineData("--prob", "0", "with --prob 0 the outputs left unmixed")]
    public async Task KeepOriginals_WithUnmixedOutputs_IsAUsageError(string option, string value, string why)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 3);
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "16", "--quiet", "--keep-originals", option, value);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("--keep-originals: ", line, StringComparison.Ordinal);
        Assert.Contains(why, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));

        // Without --keep-originals the same option is a valid run: each input appears once.
        var alone = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "16", "--quiet", option, value);
        Assert.True(alone.ExitCode == 0, alone.Stderr);
        Assert.Equal(6, GenerationManifest.Read(Path.Combine(output, "manifest.json")).Totals.Rows);
    }
}
