using System.CommandLine;
using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Inspection;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep verify OUT`: re-checks every shard, row and image against manifest.json; exit 0 only when all hold.</summary>
internal static class VerifyCommand
{
    public static Command Create(TextWriter stdout)
    {
        var directory = new Argument<string>("OUT") { Description = "A ZetaPrep output directory (holds manifest.json)." };
        var threads = new Option<int>("--threads") { Description = "Threads decoding and checking rows (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount }.Within(1, GenerateOptions.MaxThreads);
        var command = new Command("verify", "Re-hash every shard against manifest.json, open every row, check labels, weights and image sizes; one line per problem.")
        {
            directory,
            threads,
        };
        command.SetAction(async (parse, ct) =>
        {
            var report = await new DatasetVerifier(new SkiaImageDecoder()).VerifyAsync(parse.GetValue(directory)!, parse.GetValue(threads), ct).ConfigureAwait(false);
            if (report.RunWriting is { } writing)
            {
                await stdout.WriteLineAsync("note: " + writing).ConfigureAwait(false);
            }
            foreach (var problem in report.Problems)
            {
                await stdout.WriteLineAsync("problem: " + problem).ConfigureAwait(false);
            }
            foreach (var warning in report.Warnings)
            {
                await stdout.WriteLineAsync("warning: " + warning).ConfigureAwait(false);
            }
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{(report.Ok ? "OK" : "FAILED")}: {report.Shards}{(report.ShardsListed > report.Shards ? $" of {report.ShardsListed}" : "")} shard(s), {report.Rows} row(s) checked, {report.Problems.Count} problem(s), {report.Warnings.Count} warning(s){(report.RunWriting is null ? "" : "; not verified while a run writes the output")}")).ConfigureAwait(false);
            return report.Ok ? 0 : 1;
        });
        return command;
    }
}
