using System.Security.Cryptography;

namespace ZetaPrep.Cli.Tests;

/// <summary>The shard formats through the lifecycle: workers + merge and resume give the single run's bytes, index and card.</summary>
public sealed class FormatLifecycleTests
{
    [Fact]
    public async Task Overwrite_WithAnotherFormat_LeavesNoEmptyFoldersOfTheOld()
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 4);
        var output = tmp.Sub("out");
        string[] common = ["generate", "--in", input, "--out", output, "--size", "8", "--n", "2", "--batch-size", "4", "--quiet"];
        Assert.Equal(0, (await CliRunner.RunAsync([.. common, "--format", "folder"])).ExitCode);
        Assert.True(Directory.Exists(Path.Combine(output, "images")));
        var r = await CliRunner.RunAsync([.. common, "--format", "parquet", "--overwrite"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["README.md", "data", "manifest.json"], Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // And back: Parquet's data/ goes with its shards.
        var back = await CliRunner.RunAsync([.. common, "--format", "folder", "--overwrite"]);
        Assert.True(back.ExitCode == 0, back.Stderr);
        Assert.False(Directory.Exists(Path.Combine(output, "data")));
        Assert.True(Directory.Exists(Path.Combine(output, "images")));
    }

    [Theory]
    [InlineData("webdataset")]
    [InlineData("folder")]
    [InlineData("parquet")]
    public async Task TwoWorkersAndMerge_EqualTheSingleRun_IncludingDatasetLevelFiles(string format)
    {
        using var tmp = new TempDir();
        var input = tmp.Sub("in");
        ImageFixtures.SolidFolder(input, 2, 9);
        string[] common = ["--size", "8", "--n", "3", "--batch-size", "4", "--shard-rows", "4", "--format", format, "--quiet"];
        var single = tmp.Sub("single");
        Assert.Equal(0, (await CliRunner.RunAsync(["generate", "--in", input, "--out", single, .. common])).ExitCode);

        var split = tmp.Sub("split");
        foreach (var worker in new[] { "0/2", "1/2" })
        {
            var r = await CliRunner.RunAsync(["generate", "--in", input, "--out", split, .. common, "--worker", worker, "--resume"]);
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        Assert.False(File.Exists(Path.Combine(split, "README.md")), "a worker must leave the dataset card to merge");
        var merged = await CliRunner.RunAsync("merge", split);
        Assert.True(merged.ExitCode == 0, merged.Stderr);

        var expected = Files(single);
        var actual = Files(split);
        static IEnumerable<string> DataFiles(Dictionary<string, string> files) => files.Keys.Where(k => !k.StartsWith("manifest", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(DataFiles(expected), DataFiles(actual));
        // The card quotes each run's own command line (other --out, --worker), so it is compared by presence only.
        foreach (var (file, hash) in expected.Where(kv => !kv.Key.StartsWith("manifest", StringComparison.Ordinal) && kv.Key != "README.md"))
        {
            Assert.True(hash == actual[file], $"{file} differs");
        }
        var verify = await CliRunner.RunAsync("verify", split);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
    }

    private static Dictionary<string, string> Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
}
