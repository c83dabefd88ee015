using SkiaSharp;

namespace ZetaPrep.Cli.Tests;

/// <summary>preview on an output whose images do not all decode: crossed-out tiles and a note naming them.</summary>
public sealed class PreviewDamageTests
{
    [Fact]
    public async Task Preview_AnImageThatDoesNotDecode_IsCrossedOutAndNamedInANote()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 2);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "16", "--n", "2", "--batch-size", "4", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var shard = Directory.GetFiles(Path.Combine(output, "data"), "*.parquet").Single();
        var bytes = File.ReadAllBytes(shard);
        // The first PNG's IHDR: its width and CRC no longer agree, so no decoder takes it; the Parquet file stays readable.
        var ihdr = bytes.AsSpan().IndexOf("IHDR"u8);
        Assert.True(ihdr > 0);
        bytes[ihdr + 4] ^= 0x7F;
        File.WriteAllBytes(shard, bytes);

        var sheet = tmp.Sub("sheet.png");
        var r = await CliRunner.RunAsync("preview", output, "--rows", "4", "--out", sheet);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var note = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal($"zetaprep: note: 1 image(s) do not decode, drawn crossed out: data/{Path.GetFileName(shard)} row 0 (00000000.png); run zetaprep verify {output} to check the whole output.", note);
        using var bitmap = SKBitmap.Decode(sheet);
        Assert.NotNull(bitmap);
        // Tile 0 (10 px pad, 30 px title) carries the red cross: its diagonal is not white.
        var onDiagonal = bitmap.GetPixel(10 + 40, 30 + 40);
        Assert.True(onDiagonal.Red > 150 && onDiagonal.Green < 80, onDiagonal.ToString());
    }

    [Fact]
    public async Task FolderFormat_AChangedOrMissingImage_IsCrossedOut_AndInspectStillSummarises()
    {
        // In the folder format an image is one row's file: preview and inspect stopped at the first damaged or missing
        // one with the reader's error, where a Parquet output's damaged PNG is drawn crossed out (QA).
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 2);
        var output = tmp.Sub("out");
        var g = await CliRunner.RunAsync("generate", "--in", input, "--out", output, "--size", "16", "--n", "2", "--batch-size", "4", "--format", "folder", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var inspected = await CliRunner.RunAsync("inspect", output, "--json");
        var image = Path.Combine(output, "images", "00000001.png");
        File.WriteAllBytes(image, File.ReadAllBytes(image)[..100]);
        File.Delete(Path.Combine(output, "images", "00000002.png"));

        var sheet = tmp.Sub("sheet.png");
        var r = await CliRunner.RunAsync("preview", output, "--rows", "4", "--out", sheet);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var note = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal($"zetaprep: note: 2 image(s) do not decode, drawn crossed out: labels/train-00000-of-00001.parquet row 1 (00000001.png), labels/train-00000-of-00001.parquet row 2 (00000002.png); run zetaprep verify {output} to check the whole output.", note);
        using (var bitmap = SKBitmap.Decode(sheet))
        {
            var onDiagonal = bitmap.GetPixel(10 + 170 + 40, 30 + 40); // tile 1 of a 2-column sheet (cells 170 px wide)
            Assert.True(onDiagonal.Red > 150 && onDiagonal.Green < 80, onDiagonal.ToString());
        }
        var again = await CliRunner.RunAsync("inspect", output, "--json");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(inspected.Stdout, again.Stdout);
        var verify = await CliRunner.RunAsync("verify", output);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("images/00000002.png: listed in labels/train-00000-of-00001.parquet but missing", verify.Stdout, StringComparison.Ordinal);
    }
}
