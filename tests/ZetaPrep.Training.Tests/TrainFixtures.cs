using SkiaSharp;
using ZetaPrep.Cli;

namespace ZetaPrep.Training.Tests;

/// <summary>Tiny ImageFolders and shard directories generated in code, and the CLI run in-process.</summary>
internal static class TrainFixtures
{
    public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

    public static async Task<CliResult> RunCliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr, CancellationToken.None);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>An ImageFolder of noisy images, one dominant colour channel per class.</summary>
    public static void ColourFolder(string root, string[] classes, int perClass, int seed)
    {
        var random = new Random(seed);
        for (int c = 0; c < classes.Length; c++)
        {
            var dir = Path.Combine(root, classes[c]);
            Directory.CreateDirectory(dir);
            for (int k = 0; k < perClass; k++)
            {
                using var bitmap = new SKBitmap(new SKImageInfo(20, 20, SKColorType.Rgba8888, SKAlphaType.Opaque));
                for (int y = 0; y < 20; y++)
                {
                    for (int x = 0; x < 20; x++)
                    {
                        var v = new byte[3];
                        v[c % 3] = (byte)(170 + random.Next(80));
                        v[(c + 1) % 3] = (byte)random.Next(70);
                        bitmap.SetPixel(x, y, new SKColor(v[0], v[1], v[2]));
                    }
                }

                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(dir, $"img{k:D3}.png"), data.ToArray());
            }
        }
    }

    /// <summary>Shards of the originals (--method none) from the same images: what --val takes.</summary>
    public static async Task<string> UnmixedShardsAsync(string root, string[] classes, int perClass, string name = "originals")
    {
        var images = Path.Combine(root, "images");
        if (!Directory.Exists(images))
        {
            ColourFolder(images, classes, perClass, seed: 1);
        }

        var shards = Path.Combine(root, name);
        var r = await RunCliAsync("generate", "--in", images, "--out", shards, "--method", "none", "--size", "16", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return shards;
    }

    /// <summary>Generates ζ-mixed shards of a colour folder with the real `generate` verb.</summary>
    public static async Task<string> ShardsAsync(string root, string[] classes, int perClass, string name = "shards", int seed = 2)
    {
        var images = Path.Combine(root, "images");
        if (!Directory.Exists(images))
        {
            ColourFolder(images, classes, perClass, seed: 1);
        }

        var shards = Path.Combine(root, name);
        var r = await RunCliAsync("generate", "--in", images, "--out", shards, "--n", "3", "--batch-size", "8", "--size", "16", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return shards;
    }
}
