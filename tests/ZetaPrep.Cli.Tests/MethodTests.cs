using DuckDB.NET.Data;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Cli.Tests;

/// <summary>--method baselines end to end: pixels, labels, the method/lam columns, determinism and option errors.</summary>
public sealed class MethodTests
{
    private static async Task<(GenerationManifest Manifest, List<ShardRow> Rows)> GenerateAsync(string output, params string[] args)
    {
        var r = await CliRunner.RunAsync(["generate", "--out", output, "--quiet", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        var rows = new List<ShardRow>();
        foreach (var shard in manifest.Shards)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(Path.Combine(output, shard.File), CancellationToken.None))
            {
                rows.Add(row);
            }
        }
        return (manifest, rows);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    [InlineData("3")]
    public async Task CutMix_LabelMass_EqualsThePastedArea_CountedInPixels(string seed)
    {
        using var tmp = new TempDir();
        var colours = ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 3, perClass: 4);
        const int Size = 12;
        var (manifest, rows) = await GenerateAsync(tmp.Sub("out"), "--in", tmp.Sub("in"), "--method", "cutmix", "--batch-size", "6", "--size", $"{Size}", "--seed", seed);
        Assert.Equal("cutmix", manifest.Options.Method);
        Assert.Equal(1.0, manifest.Options.Alpha);
        Assert.Equal(12, rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal("cutmix", row.Method);
            Assert.False(row.Original);
            var lam = row.Lam!.Value;
            // Sources are ordered by weight; the base image is the one whose weight is λ (ties: the base first).
            var baseIndex = row.Weights[0] == lam ? 0 : 1;
            var (b, p) = (colours[row.Sources[baseIndex]], colours[row.Sources[1 - baseIndex]]);
            Assert.NotEqual(b, p);
            var rgb = PngPixels.Decode(row.ImageBytes.ToArray(), out _, out _);
            var pasted = 0;
            for (var i = 0; i < rgb.Length; i += 3)
            {
                var c = (rgb[i], rgb[i + 1], rgb[i + 2]);
                Assert.True(c == b || c == p, $"pixel {c} is neither the base {b} nor the partner {p}");
                pasted += c == p ? 1 : 0;
            }
            Assert.Equal(pasted, (int)Math.Round((1 - lam) * Size * Size));
            Assert.Equal(row.Weights[1 - baseIndex], (float)pasted / (Size * Size), 6);
            Assert.Equal(1f, row.Label.Sum(), 5);
        }
    }

    [Fact]
    public async Task None_WritesTheDecodedOriginals_WithOneHotOrSmoothedLabels()
    {
        using var tmp = new TempDir();
        var colours = ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 5);
        var (manifest, rows) = await GenerateAsync(tmp.Sub("out"), "--in", tmp.Sub("in"), "--method", "none", "--batch-size", "4", "--size", "6", "--label-smoothing", "0.1");
        Assert.Equal(("none", 0.1), (manifest.Options.Method, manifest.Options.LabelSmoothing));
        Assert.Equal(10, rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal(("none", true, 0f), (row.Method, row.Original, row.Gamma));
            Assert.Null(row.Lam);
            Assert.Equal([1f], row.Weights);
            var c = colours[row.Sources.Single()];
            var rgb = PngPixels.Decode(row.ImageBytes.ToArray(), out _, out _);
            for (var i = 0; i < rgb.Length; i += 3)
            {
                Assert.Equal(c, (rgb[i], rgb[i + 1], rgb[i + 2]));
            }
            // y(1−ε) + ε/K with K = 2, ε = 0.1.
            Assert.Equal(0.95f, row.Label[row.Dominant], 6);
            Assert.Equal(0.05f, row.Label[1 - row.Dominant], 6);
            Assert.Equal(1f, row.Label.Sum(), 6);
        }
    }

    [Fact]
    public async Task MixupWithSmoothing_LabelsAreTheMixOfSmoothedLabels_AndProbZeroGivesOriginals()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 3, perClass: 4);
        var (manifest, rows) = await GenerateAsync(tmp.Sub("out"), "--in", tmp.Sub("in"), "--method", "mixup", "--alpha", "0.5", "--label-smoothing", "0.3", "--batch-size", "6", "--size", "4", "--seed", "5");
        Assert.Equal(0.5, manifest.Options.Alpha);
        foreach (var row in rows)
        {
            Assert.Equal("mixup", row.Method);
            var expected = new double[3];
            for (var i = 0; i < 2; i++)
            {
                var cls = row.Sources[i].StartsWith("class_a", StringComparison.Ordinal) ? 0 : row.Sources[i].StartsWith("class_b", StringComparison.Ordinal) ? 1 : 2;
                for (var c = 0; c < 3; c++)
                {
                    expected[c] += row.Weights[i] * ((c == cls ? 1 : 0) * 0.7 + 0.1);
                }
            }
            Assert.Equal(expected.Select(v => (float)v), row.Label, (a, b) => Math.Abs(a - b) < 1e-5);
            Assert.Equal(1f, row.Label.Sum(), 5);
            Assert.Contains(row.Lam!.Value, row.Weights);
        }

        var (_, originals) = await GenerateAsync(tmp.Sub("p0"), "--in", tmp.Sub("in"), "--method", "mixup", "--prob", "0", "--batch-size", "6", "--size", "4");
        Assert.All(originals, row => Assert.Equal(("none", true, 1), (row.Method, row.Original, row.Sources.Length)));
    }

    [Theory]
    [InlineData("zeta")]
    [InlineData("mixup")]
    [InlineData("cutmix")]
    [InlineData("cutmix+zeta")]
    [InlineData("none")]
    [InlineData("zeta,cutmix")]
    public async Task EveryMethod_IsByteIdentical_AtAnyThreadCount(string method)
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 6);
        // --n only where ζ weights are used, --prob only where something is mixed (elsewhere each is refused).
        string[] n = method is "zeta" or "cutmix+zeta" or "zeta,cutmix" ? ["--n", "3"] : [];
        string[] prob = method is "none" ? [] : ["--prob", "0.8"];
        string[] common = ["--in", tmp.Sub("in"), "--method", method, .. prob, "--batch-size", "4", .. n, "--size", "10", "--shard-rows", "8", "--seed", "9"];
        var (one, rows) = await GenerateAsync(tmp.Sub("t1"), [.. common, "--threads", "1"]);
        var (two, _) = await GenerateAsync(tmp.Sub("t2"), [.. common, "--threads", "2"]);
        Assert.Equal(one.Shards.Select(s => s.Sha256), two.Shards.Select(s => s.Sha256));
        Assert.All(rows, r => Assert.Contains(r.Method, new[] { "none", method == "zeta,cutmix" ? "zeta" : method, method == "zeta,cutmix" ? "cutmix" : method }));
        Assert.All(rows, r => Assert.Equal(1f, r.Label.Sum(), 5));
    }

    [Fact]
    public async Task AMixupDrawOfExactlyOne_IsWrittenWithAFiniteGamma_InEveryFormat()
    {
        // Beta(0.01, 0.01) gives λ of exactly 0 or 1 (a double's underflow) for many outputs: weights [1, 0] and
        // log₂(1/0) = ∞, which the WebDataset JSON could not write (the run died) and Parquet stored as Infinity.
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 5);
        foreach (var format in new[] { "webdataset", "parquet" })
        {
            var output = tmp.Sub(format);
            var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", output, "--method", "mixup", "--alpha", "0.01",
                "--passes", "20", "--batch-size", "5", "--size", "8", "--format", format, "--quiet");
            Assert.True(r.ExitCode == 0, r.Stderr);
            var rows = new List<ShardRow>();
            var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
            foreach (var shard in manifest.Shards)
            {
                var rowsOfShard = format == "webdataset"
                    ? WebDatasetTarReader.ReadRowsAsync(Path.Combine(output, shard.File), CancellationToken.None)
                    : ParquetShardReader.ReadRowsAsync(Path.Combine(output, shard.File), CancellationToken.None);
                await foreach (var row in rowsOfShard)
                {
                    rows.Add(row);
                }
            }
            Assert.Equal(200, rows.Count);
            Assert.All(rows, row => Assert.True(float.IsFinite(row.Gamma), $"γ {row.Gamma}"));
            // λ of exactly 1 (or 0): γ stands for ∞ as the largest float32; a λ within 2⁻¹⁰⁷⁴ of it has a finite γ.
            var pure = rows.Where(row => row.Gamma == float.MaxValue).ToList();
            Assert.NotEmpty(pure);
            Assert.All(pure, row => Assert.Equal([1f, 0f], row.Weights));
            Assert.Equal(0, (await CliRunner.RunAsync("verify", output)).ExitCode);
        }
    }

    [Fact]
    public async Task CutMixOnZeta_ColumnsReadByDuckDb_AndResumeRefusesAnotherMethod()
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 4);
        var output = tmp.Sub("out");
        var (_, rows) = await GenerateAsync(output, "--in", tmp.Sub("in"), "--method", "cutmix+zeta", "--batch-size", "4", "--n", "3", "--size", "8");
        Assert.All(rows, r => Assert.Equal("cutmix+zeta", r.Method));
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM read_parquet('{Path.Combine(output, "data", "*.parquet")}') WHERE method = 'cutmix+zeta' AND lam BETWEEN 0 AND 1";
        Assert.Equal(8L, Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));

        var r = await CliRunner.RunAsync("generate", "--out", output, "--in", tmp.Sub("in"), "--method", "cutmix", "--batch-size", "4", "--size", "8", "--resume", "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--method differs (manifest cutmix+zeta, now cutmix)", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--method", "cutout")]
    [InlineData("--alpha", "0")]
    [InlineData("--alpha", "NaN")]
    [InlineData("--label-smoothing", "1")]
    [InlineData("--prob", "1.5")]
    [InlineData("--prob", "-0.5")]
    [InlineData("--switch-prob", "0.5")]
    public async Task BadMethodOptions_AreOneLineUsageErrors(string option, string value)
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 2);
        string[] method = option is "--alpha" ? ["--method", "mixup"] : [];
        var r = await CliRunner.RunAsync(["generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--quiet", option, value, .. method]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains(option, r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")) && Directory.EnumerateFileSystemEntries(tmp.Sub("out")).Any());
    }

    /// <summary>An option the method ignores, given explicitly, is refused as --alpha is with ζ; the defaults never are.</summary>
    [Theory]
    [InlineData("mixup", "--gamma", "3")]
    [InlineData("none", "--gamma", "3")]
    [InlineData("cutmix", "--gamma", "min:4")]
    [InlineData("cutmix", "--n", "4")]
    [InlineData("mixup", "--n", "2")]
    [InlineData("none", "--n", "batch")]
    [InlineData("none", "--prob", "0.5")]
    public async Task AnOptionTheMethodIgnores_IsAOneLineUsageError(string method, string option, string value)
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 2);
        var r = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("out"), "--size", "16", "--quiet", "--method", method, option, value);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith($"zetaprep: error: {option}: ", line, StringComparison.Ordinal);
        Assert.Contains($"--method {method}", line, StringComparison.Ordinal);
        Assert.EndsWith($"drop {option}.", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Theory]
    [InlineData("zeta", "--n", "3")]
    [InlineData("zeta", "--gamma", "3")]
    [InlineData("cutmix+zeta", "--gamma", "3")]
    [InlineData("zeta,cutmix", "--n", "3")]
    [InlineData("mixup", "--prob", "0.5")]
    [InlineData("none", "--label-smoothing", "0.1")]
    public async Task AnOptionTheMethodUses_OrTheDefaults_AreAccepted(string method, string option, string value)
    {
        using var tmp = new TempDir();
        ImageFixtures.SolidFolder(tmp.Sub("in"), classes: 2, perClass: 2);
        var given = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("given"), "--size", "16", "--quiet", "--method", method, option, value);
        Assert.True(given.ExitCode == 0, given.Stderr);
        var defaults = await CliRunner.RunAsync("generate", "--in", tmp.Sub("in"), "--out", tmp.Sub("defaults"), "--size", "16", "--quiet", "--method", method);
        Assert.True(defaults.ExitCode == 0, defaults.Stderr);
    }
}
