using System.CommandLine;
using System.Globalization;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep merge OUT`: joins the workers' partial manifests into manifest.json after checking every shard.</summary>
internal static class MergeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var directory = new Argument<string>("OUT") { Description = "The --out directory the `generate --worker I/W` runs wrote to." };
        var command = new Command("merge", "Combine OUT/manifest.worker-I-of-W.json into OUT/manifest.json (checks plans, options, inputs and every shard's SHA-256).")
        {
            directory,
        };
        command.SetAction(async (parse, ct) =>
        {
            var merged = await PartialManifestMerge.MergeAsync(parse.GetValue(directory)!, ct).ConfigureAwait(false);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"merged {merged.Shards.Count} shard(s), {merged.Totals.Rows} rows, into {Path.Combine(Path.GetFullPath(parse.GetValue(directory)!), "manifest.json")}"))
                .ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
