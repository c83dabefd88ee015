namespace ZetaPrep.Cli.Tests;

/// <summary>An empty or blank value (an unset shell variable) for any text option or argument is a one-line usage error.</summary>
public sealed class EmptyValueTests
{
    [Theory]
    [InlineData("OUT", "inspect", "")]
    [InlineData("OUT", "inspect", "  ")]
    [InlineData("OUT", "verify", "")]
    [InlineData("OUT", "preview", "")]
    [InlineData("OUT", "merge", "")]
    [InlineData("SHARDS_OR_FOLDER", "analyze", "")]
    [InlineData("--out", "preview", "some-output", "--out", "")]
    [InlineData("--out", "compare", "--in", "in", "--val", "val", "--out", "")]
    [InlineData("--data-dir", "datasets", "--data-dir", "")]
    [InlineData("--exclude", "generate", "--in", "in", "--out", "out", "--exclude", "")]
    [InlineData("--label-column", "generate", "--in", "in", "--out", "out", "--labels", "l.csv", "--label-column", " ")]
    [InlineData("--out", "train", "--data", "d", "--val", "v", "--out", "")]
    [InlineData("--model", "evaluate", "--model", "", "--val", "v")]
    public async Task IsAUsageError_NamingTheOption(string name, params string[] args)
    {
        // Commands took "" for a path, and .NET threw from deep inside: an unhandled exception and exit 134 (QA).
        var r = await CliRunner.RunAsync(args);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith($"zetaprep: error: {name}: the value is empty; give one", line, StringComparison.Ordinal);
        Assert.Empty(r.Stdout);
    }
}
