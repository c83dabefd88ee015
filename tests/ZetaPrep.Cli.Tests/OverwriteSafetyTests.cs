using System.Security.Cryptography;
using ZetaPrep.Manifests;

namespace ZetaPrep.Cli.Tests;

/// <summary>What --overwrite and a worker's --resume may delete: ZetaPrep's own files by their exact names, nothing else.</summary>
public sealed class OverwriteSafetyTests
{
    private static string[] Args(string input, string output, params string[] more) =>
        ["generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--batch-size", "4", "--shard-rows", "4", "--quiet", .. more];

    [Theory]
    [InlineData("{\"name\": \"my web app\", \"version\": \"1.0\"}\n")]
    [InlineData("{garbage\n")]
    public async Task AFolderWhoseManifestIsAnotherTools_IsRefused_AndEveryFileInItKept(string manifest)
    {
        // Any manifest.json made the folder "a ZetaPrep output", and --overwrite then deleted the files there with
        // shards' names or under data/ and images/, and replaced README.md (QA).
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        var output = tmp.Sub("myproj");
        var files = new Dictionary<string, string>
        {
            ["manifest.json"] = manifest,
            ["README.md"] = "my notes\n",
            ["data/results.csv"] = "a,b\n",
            ["data/train-00000-of-00001.parquet"] = "not a shard\n",
            ["images/logo.png"] = "precious\n",
            ["shard-000000.tar"] = "precious\n",
        };
        foreach (var (name, text) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(output, name))!);
            await File.WriteAllTextAsync(Path.Combine(output, name), text);
        }
        foreach (var how in new[] { "--overwrite", "--resume" })
        {
            var r = await CliRunner.RunAsync(Args(input, output, how));
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"zetaprep: error: --out {output}: holds a manifest.json that ZetaPrep did not write (not JSON with \"format\": \"zetaprep-manifest\"), so the directory is another tool's, not an output --overwrite may replace or --resume finish; choose a new or empty directory.",
                r.Stderr.Trim());
        }
        var plain = await CliRunner.RunAsync(Args(input, output));
        Assert.Equal(2, plain.ExitCode);
        Assert.Contains("that ZetaPrep did not write", plain.Stderr, StringComparison.Ordinal);
        foreach (var (name, text) in files)
        {
            Assert.Equal(text, await File.ReadAllTextAsync(Path.Combine(output, name)));
        }
        Assert.Equal(files.Count, Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public async Task OverwritingAZetaPrepOutput_DeletesItsShardsAndCard_NotTheUsersFilesNorAnotherSplitsShards()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(input, output))).ExitCode);
        var shards = GenerationManifest.Read(Path.Combine(output, "manifest.json")).Shards.Select(s => s.File).ToList();
        Assert.Equal(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"], shards);
        // The user's: notes beside the shards, an image, and another split's shard moved in for the Hub's layout.
        var mine = new[] { "data/notes.txt", "images/cat.jpg", "data/validation-00000-of-00001.parquet", "data/train-extra.parquet" };
        foreach (var name in mine)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(output, name))!);
            File.Copy(Path.Combine(output, shards[0]), Path.Combine(output, name));
        }

        var r = await CliRunner.RunAsync(Args(input, output, "--overwrite", "--format", "folder", "--seed", "1"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.All(shards, s => Assert.False(File.Exists(Path.Combine(output, s)), s));
        Assert.All(mine, m => Assert.True(File.Exists(Path.Combine(output, m)), m));
        Assert.Contains("images/00000000.png", Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)));
        var verify = await CliRunner.RunAsync("verify", output);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        // The other split's shard, a Parquet file in a folder-format output, is named as not of this output.
        Assert.Contains("data/validation-00000-of-00001.parquet: a file of another shard format, not of this folder output", verify.Stdout + verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerRedoneInAnotherFormat_LeavesNoShardOfTheOldOne()
    {
        // Worker 1 first wrote WebDataset tars by mistake; merge refused the mix; redone as Parquet with --overwrite, it
        // deleted only its Parquet names, and merge and verify then passed over the stale tars (QA).
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 8); // 16 inputs → 4 shards of 4 rows
        var output = tmp.Sub("out");
        Assert.Equal(0, (await CliRunner.RunAsync(Args(input, output, "--worker", "0/2"))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(Args(input, output, "--worker", "1/2", "--format", "webdataset"))).ExitCode);
        Assert.True(File.Exists(Path.Combine(output, "shard-000001.tar")));
        Assert.NotEqual(0, (await CliRunner.RunAsync("merge", output)).ExitCode);

        var redo = await CliRunner.RunAsync(Args(input, output, "--worker", "1/2", "--overwrite"));
        Assert.True(redo.ExitCode == 0, redo.Stderr);
        Assert.Empty(Directory.EnumerateFiles(output, "*.tar"));
        var merged = await CliRunner.RunAsync("merge", output);
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        var verify = await CliRunner.RunAsync("verify", output);
        Assert.True(verify.ExitCode == 0 && !(verify.Stdout + verify.Stderr).Contains("warning:", StringComparison.Ordinal), verify.Stdout + verify.Stderr);

        // A stray tar beside the Parquet output is one verify names.
        File.Copy(Path.Combine(output, "data/train-00000-of-00004.parquet"), Path.Combine(output, "shard-000007.tar"));
        var stray = await CliRunner.RunAsync("verify", output);
        Assert.Contains("shard-000007.tar: a file of another shard format, not of this parquet output", stray.Stdout + stray.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkersResume_RemovesTheUnfinishedImagesOfItsOwnShards_NotAnotherWorkers()
    {
        // In the folder format a killed worker leaves images/.NNNNNNNN.png.tmp-* files; its --resume removed only those
        // of its label parts and manifest, so they stayed, and verify's advice (rerun with --resume) did nothing (QA).
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 8); // 16 inputs → 4 shards of 4 rows: worker 0 has rows 0–3 and 8–11
        var output = tmp.Sub("out");
        foreach (var worker in new[] { "0/2", "1/2" })
        {
            Assert.Equal(0, (await CliRunner.RunAsync(Args(input, output, "--worker", worker, "--format", "folder"))).ExitCode);
        }
        var images = Path.Combine(output, "images");
        string[] ofWorker0 = [".00000002.png.tmp-a1b2c3", ".00000009.png.tmp-a1b2c3"];
        string[] ofWorker1 = [".00000005.png.tmp-a1b2c3", ".00000013.png.tmp-a1b2c3"];
        foreach (var name in ofWorker0.Concat(ofWorker1))
        {
            await File.WriteAllBytesAsync(Path.Combine(images, name), RandomNumberGenerator.GetBytes(10));
        }
        var resume = await CliRunner.RunAsync(Args(input, output, "--worker", "0/2", "--format", "folder", "--resume"));
        Assert.True(resume.ExitCode == 0, resume.Stderr);
        Assert.All(ofWorker0, n => Assert.False(File.Exists(Path.Combine(images, n)), n));
        Assert.All(ofWorker1, n => Assert.True(File.Exists(Path.Combine(images, n)), n));
    }
}
