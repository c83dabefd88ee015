using System.Diagnostics;

namespace ZetaPrep.Cli.Tests;

public sealed class CliSurfaceTests
{
    [Fact]
    public async Task GenerateHelp_ListsEveryOption_WithItsDefault()
    {
        var r = await CliRunner.RunAsync("generate", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var (option, def) in new[]
        {
            ("--n", "8"), ("--gamma", "2.8"), ("--batch-size", "64"), ("--passes", "1"), ("--seed", "0"),
            ("--shard-rows", "1000"), ("--size", "224"), ("--resize", "crop"), ("--device", "auto"), ("--max-pixels", "100000000"), ("--format", "parquet"),
            ("--codec", "auto"), ("--png-level", "1"),
        })
        {
            var line = r.Stdout.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
            Assert.NotNull(line);
            Assert.Contains($"[default: {def}]", r.Stdout[r.Stdout.IndexOf(line, StringComparison.Ordinal)..], StringComparison.Ordinal);
        }
        Assert.Contains("--in", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--out", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--threads", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RootHelp_ListsTheVerbs()
    {
        var r = await CliRunner.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("generate", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("info", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("verify", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("inspect", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("preview", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_SaysWhereDownloadsHashesAreCached()
    {
        var r = await CliRunner.RunAsync("info");
        Assert.Equal(0, r.ExitCode);
        // The test assembly points ZETAPREP_CACHE_DIR at a temporary folder (CacheTestSetup).
        Assert.Contains($"file-hash cache: {Environment.GetEnvironmentVariable("ZETAPREP_CACHE_DIR")} (", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownVerb_IsAUsageError()
    {
        var r = await CliRunner.RunAsync("frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("zetaprep: error:", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuiltExecutable_LoadsTorch_InAFreshProcess()
    {
        // The apphost built beside this test (the same files `make publish` ships) must load libtorch on this OS.
        var exe = Path.Combine(AppContext.BaseDirectory, "zetaprep");
        Assert.True(File.Exists(exe), exe);
        var psi = new ProcessStartInfo(exe, ["info"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var stdout = await stdoutTask;
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Contains("libtorch 2.10", stdout, StringComparison.Ordinal);
        Assert.Contains("γ_min = 1.72865", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorLines_ShowControlCharactersAsReplacements_AndKeepBothEndsOfAnOverlongMessage()
    {
        Assert.Equal("a\uFFFD[31mred\uFFFDb", CliApp.Printable("a\u001b[31mred\0b"));
        var message = "labels.csv line 3: label '" + new string('x', 100_000) + "' is not a class; fix the row.";
        var shown = CliApp.Printable(message);
        var gap = $" … ({message.Length - CliApp.MaxMessageChars:N0} characters left out) … ";
        Assert.Equal(CliApp.MaxMessageChars + gap.Length, shown.Length);
        Assert.StartsWith("labels.csv line 3: label 'xxx", shown, StringComparison.Ordinal);
        Assert.EndsWith("xxx' is not a class; fix the row.", shown, StringComparison.Ordinal);
        Assert.Contains(gap, shown, StringComparison.Ordinal);
    }
}
