namespace ZetaPrep.Cli.Tests;

public sealed class DatasetsCommandTests
{
    [Fact]
    public async Task AnEmptyOrForeignDownload_IsNotFound_NorReady()
    {
        using var tmp = new TempDir();
        var dir = Path.Combine(tmp.Sub("data"), "isic2017");
        IsicFixtures.Write2017(dir);
        File.WriteAllBytes(Path.Combine(dir, "ISIC-2017_Training_Data.zip"), []);
        Directory.CreateDirectory(Path.Combine(tmp.Sub("data"), "isic2016"));
        File.WriteAllText(Path.Combine(tmp.Sub("data"), "isic2016", "ISBI2016_ISIC_Part3_Training_Data.zip"), "<html>rate limited</html>");
        File.WriteAllText(Path.Combine(tmp.Sub("data"), "isic2016", "ISBI2016_ISIC_Part3_Training_GroundTruth.csv"), "ISIC_0000000,benign\n");

        var r = await CliRunner.RunAsync("datasets", "--data-dir", tmp.Sub("data"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"  train: incomplete (1/2 files in {dir})", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("    [empty: 0 bytes, download it again] ISIC-2017_Training_Data.zip", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("    [found] ISIC-2017_Training_Part3_GroundTruth.csv", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("    [not a zip, download it again] ISBI2016_ISIC_Part3_Training_Data.zip", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ready", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingDataDir_OrAFile_IsAOneLineUsageError()
    {
        using var tmp = new TempDir();
        var missing = await CliRunner.RunAsync("datasets", "--data-dir", tmp.Sub("nope"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains($"--data-dir {tmp.Sub("nope")}: directory not found", Assert.Single(missing.Stderr.TrimEnd().Split('\n')), StringComparison.Ordinal);
        Assert.Empty(missing.Stdout);

        File.WriteAllText(tmp.Sub("file"), "x");
        var file = await CliRunner.RunAsync("datasets", "--data-dir", tmp.Sub("file"));
        Assert.Equal(2, file.ExitCode);
        Assert.Contains($"--data-dir {tmp.Sub("file")}: is a file", Assert.Single(file.Stderr.TrimEnd().Split('\n')), StringComparison.Ordinal);
    }
}
