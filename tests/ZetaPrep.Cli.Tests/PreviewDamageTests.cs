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
}
