namespace ZetaPrep.Cli.Tests;

/// <summary>Runs the CLI in-process, capturing stdout and stderr.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr, CancellationToken.None);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
