using System.Text;

namespace ZetaPrep.Cli.Tests;

/// <summary>--labels ids and file names that spell one name in two Unicode normal forms (NFD names from macOS, NFC CSVs).</summary>
public sealed class LabelNormalFormTests
{
    private static readonly string Nfc = "caf\u00e9", Nfd = "cafe\u0301";

    private static string[] Generate(TempDir tmp, string output) =>
        ["generate", "--in", tmp.Sub("imgs"), "--labels", tmp.Sub("labels.csv"), "--id-column", "image", "--label-column", "cls",
         "--out", output, "--n", "2", "--batch-size", "4", "--size", "8", "--quiet"];

    private static void Images(TempDir tmp, params string[] names)
    {
        var dir = tmp.Sub("imgs");
        Directory.CreateDirectory(dir);
        for (var i = 0; i < names.Length; i++)
        {
            File.WriteAllBytes(Path.Combine(dir, names[i] + ".png"), ImageFixtures.Solid(6, 6, (byte)(i * 40), 10, 20));
        }
    }

    [Fact]
    public async Task AnNfdFileName_WithAnNfcRow_IsNamed_WithTheCauseAndTheFix()
    {
        using var tmp = new TempDir();
        Images(tmp, Nfd, "a1", "a2", "b1");
        File.WriteAllText(tmp.Sub("labels.csv"), $"image,cls\n{Nfc},b\na1,a\na2,a\nb1,b\n", new UTF8Encoding(false));
        var r = await CliRunner.RunAsync(Generate(tmp, tmp.Sub("out")));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains($"(id {Nfd}) has no row in", line, StringComparison.Ordinal);
        Assert.Contains("Unicode NFD", line, StringComparison.Ordinal);
        Assert.Contains("convmv -f utf8 -t utf8 --nfc", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("out")));
    }

    [Fact]
    public async Task AnNfdRow_WithAnNfcFileName_IsNamed_WithTheCause()
    {
        using var tmp = new TempDir();
        Images(tmp, Nfc, "a1", "a2", "b1");
        File.WriteAllText(tmp.Sub("labels.csv"), $"image,cls\n{Nfd},b\n{Nfc},b\na1,a\na2,a\nb1,b\n", new UTF8Encoding(false));
        var r = await CliRunner.RunAsync(Generate(tmp, tmp.Sub("out")));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"image {Nfd} has a label row but no image", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Unicode NFD", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlainMissingRow_HasNoSuchHint()
    {
        using var tmp = new TempDir();
        Images(tmp, "x1", "a1", "a2", "b1");
        File.WriteAllText(tmp.Sub("labels.csv"), "image,cls\na1,a\na2,a\nb1,b\n", new UTF8Encoding(false));
        var r = await CliRunner.RunAsync(Generate(tmp, tmp.Sub("out")));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("(id x1) has no row in", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("NFD", r.Stderr, StringComparison.Ordinal);
    }
}
