using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

/// <summary>The dataset card (OUT/README.md) and inspect describe what the run did: its method, knobs, row kinds and N as used.</summary>
public sealed class DatasetCardTests
{
    private static async Task<(string Output, string Card, GenerationManifest Manifest)> GenerateAsync(TempDir tmp, int perClass, params string[] args)
    {
        var input = tmp.Sub("in");
        if (!Directory.Exists(input))
        {
            ImageFixtures.SolidFolder(input, classes: 2, perClass: perClass);
        }
        var output = tmp.Sub("out-" + string.Join('-', args).Replace('+', 'p').Replace(',', 'c'));
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--size", "8", "--seed", "2", "--quiet", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var manifest = GenerationManifest.Read(Path.Combine(output, "manifest.json"));
        var card = await File.ReadAllTextAsync(Path.Combine(output, "README.md"));
        Assert.Equal(DatasetCard.Render(manifest), card);
        return (output, card, manifest);
    }

    private static string Header(string card) => card[4..(card.IndexOf("\n---\n", 4, StringComparison.Ordinal) + 1)];

    [Fact]
    public async Task GammaRange_FromMin_IsShownRounded_AsInspectShowsIt_AndRecordedExactly()
    {
        // The closing line and card printed the raw double (γ=1.728647238998183:4) where info and inspect print 1.72865.
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 6);
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "8", "--n", "3", "--batch-size", "4", "--gamma", "min:4", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("wrote 12 rows (12 inputs × 1 pass(es), N=3, γ=1.72865:4) in 1 shard(s), ", r.Stdout, StringComparison.Ordinal);
        var card = await File.ReadAllTextAsync(Path.Combine(output, "README.md"));
        Assert.Contains("| γ | 1.72865:4 |", card, StringComparison.Ordinal);
        Assert.Contains("(N=3, γ=1.72865:4)'", card, StringComparison.Ordinal);
        Assert.DoesNotContain("1.728647", card, StringComparison.Ordinal);
        // What the manifest and the shards record (and --resume compares) is the exact value, as before.
        Assert.Equal("1.728647238998183:4", GenerationManifest.Read(Path.Combine(output, "manifest.json")).Options.Gamma);
        Assert.Contains("γ_min = 1.72865", (await CliRunner.RunAsync("info")).Stdout, StringComparison.Ordinal);

        // The PyTorch snippet batches only the columns default_collate can stack: the null lam of ζ rows and the
        // sources lists (of more than one length with --keep-originals) stop it (QA).
        Assert.Contains("ds = ds.with_format(\"torch\", columns=[\"image\", \"label\"])", card, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zeta", true, false)]
    [InlineData("mixup", false, true)]
    [InlineData("cutmix", false, true)]
    [InlineData("cutmix+zeta", true, true)]
    [InlineData("zeta,cutmix", true, true)]
    [InlineData("none", false, false)]
    public async Task Card_NamesTheMethodAndItsKnobs_AndCountsTheRowsAsWritten(string method, bool zeta, bool alpha)
    {
        using var tmp = new TempDir();
        string[] prob = method == "none" ? [] : ["--prob", "0.5"];
        string[] n = zeta ? ["--n", "3"] : []; // --n is refused where no ζ weights are used
        var (output, card, manifest) = await GenerateAsync(tmp, 10, ["--method", method, "--batch-size", "5", .. n, "--label-smoothing", "0.1", .. prob]);
        var rows = await ShardFormatTests.ReadAllAsync(output);

        Assert.Contains($"| method | `{method}` |", card, StringComparison.Ordinal);
        Assert.Equal(zeta, card.Contains("ζ-mixup weights", StringComparison.Ordinal));
        Assert.Equal(zeta, card.Contains("| N (samples mixed per ζ output) | 3 |", StringComparison.Ordinal));
        Assert.Equal(zeta, card.Contains("| γ | 2.8 |", StringComparison.Ordinal));
        Assert.Equal(zeta, Header(card).Contains("- zeta-mixup\n", StringComparison.Ordinal));
        Assert.Equal(alpha, card.Contains($"| α (", StringComparison.Ordinal));
        Assert.Equal(method != "none", card.Contains("| --prob (fraction of outputs mixed) | 0.5 |", StringComparison.Ordinal));
        Assert.Equal(method == "zeta,cutmix", card.Contains("| --switch-prob (CutMix instead of ζ per output) | 0.5 |", StringComparison.Ordinal));
        Assert.Contains("| label smoothing ε | 0.1 |", card, StringComparison.Ordinal);

        // The card's counts are the rows' own: originals by their column, the rest by their method column.
        var originals = rows.Count(r => r.Original);
        Assert.Equal(20, rows.Count);
        if (method == "none")
        {
            Assert.Equal(20, originals);
            Assert.Contains("| rows | 20: 20 resized originals, unmixed |", card, StringComparison.Ordinal);
            Assert.Contains("pretty_name: 'Resized originals of in'\n", Header(card), StringComparison.Ordinal);
            Assert.DoesNotContain("synthetic", card, StringComparison.Ordinal);
        }
        else
        {
            Assert.InRange(originals, 1, 19); // --prob 0.5 over 20 outputs with this seed leaves some of each
            Assert.Contains($", {originals} originals left unmixed by --prob |", card, StringComparison.Ordinal);
            foreach (var g in rows.Where(r => !r.Original).GroupBy(r => r.Method))
            {
                var label = g.Key switch { "zeta" => "ζ-mixed", "mixup" => "mixup", "cutmix" => "CutMix", _ => "CutMix on ζ" };
                Assert.Contains($"{g.Count()} {label}", card, StringComparison.Ordinal);
            }
        }
        Assert.Equal(method == "zeta", card.Contains("\n# ζ-mixup dataset: ", StringComparison.Ordinal));

        var inspect = await CliRunner.RunAsync("inspect", output);
        Assert.Equal(0, inspect.ExitCode);
        var second = inspect.Stdout.Split('\n')[1];
        Assert.StartsWith($"method {method}: ", second, StringComparison.Ordinal);
        Assert.Contains($"{originals} original", second, StringComparison.Ordinal);
        Assert.Equal(method is "zeta" or "zeta,cutmix" or "cutmix+zeta", inspect.Stdout.Contains("N = 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeepOriginals_CountsOriginalsApart_NotAsSyntheticImages()
    {
        using var tmp = new TempDir();
        var (_, card, manifest) = await GenerateAsync(tmp, 5, "--keep-originals", "--n", "2", "--batch-size", "4");
        Assert.Equal(20, manifest.Totals.Rows);
        Assert.Contains("# ζ-mixup dataset: 20 images (10 ζ-mixed, 10 originals (--keep-originals)), 2 classes\n", card, StringComparison.Ordinal);
        Assert.Contains("pretty_name: 'ζ-mixup of in (N=2, γ=2.8, with originals)'\n", card, StringComparison.Ordinal);
        Assert.DoesNotContain("synthetic images", card, StringComparison.Ordinal);
    }

    /// <summary>The closing line said "N=8, γ=2.8" for runs whose ζ method wrote no ζ output, and N as asked where all used fewer.</summary>
    [Theory]
    [InlineData("method zeta, no ζ output written", "ζ-mixup of in (prob=0)", "--prob", "0")]
    [InlineData("method zeta,cutmix, no ζ output written", "ζ-mixup or CutMix of in (α=1, switch-prob=1)", "--method", "zeta,cutmix", "--switch-prob", "1")]
    [InlineData("N=6, γ=2.8", "ζ-mixup of in (N=6, γ=2.8)", "--n", "8", "--batch-size", "8")]
    public async Task ClosingLine_AndCard_SayTheKnobsAsUsed(string summary, string title, params string[] args)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, classes: 2, perClass: 3);
        var output = tmp.Sub("out");
        var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", output, "--size", "8", "--quiet", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith($"wrote 6 rows (6 inputs × 1 pass(es), {summary}) in 1 shard(s), ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"pretty_name: '{title}'\n", await File.ReadAllTextAsync(Path.Combine(output, "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task N_LargerThanTheInput_IsReportedAsUsed()
    {
        using var tmp = new TempDir();
        // 6 inputs in one batch of up to 8: --n 8 mixes the 6 there are.
        var (output, card, _) = await GenerateAsync(tmp, 3, "--n", "8", "--batch-size", "8");
        Assert.All(await ShardFormatTests.ReadAllAsync(output), r => Assert.Equal(6, r.Sources.Length));
        Assert.Contains("| N (samples mixed per ζ output) | 8 asked, 6 used: an output mixes at most the inputs of its batch |", card, StringComparison.Ordinal);
        Assert.Contains("pretty_name: 'ζ-mixup of in (N=6, γ=2.8)'\n", card, StringComparison.Ordinal);
        var inspect = await CliRunner.RunAsync("inspect", output);
        Assert.Contains("N = 8 (sources per ζ row 6..6, capped at the inputs of the row's batch)", inspect.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mixup_Inspect_PrintsNoZetaN()
    {
        using var tmp = new TempDir();
        var (output, _, _) = await GenerateAsync(tmp, 4, "--method", "mixup", "--batch-size", "4");
        var inspect = await CliRunner.RunAsync("inspect", output);
        Assert.Equal(0, inspect.ExitCode);
        var lines = inspect.Stdout.Split('\n');
        Assert.Equal("method mixup: 8 mixup", lines[1]);
        Assert.Equal("sources per row 2..2", lines[2]);
        Assert.DoesNotContain("N = ", inspect.Stdout, StringComparison.Ordinal);
    }
}
