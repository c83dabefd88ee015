using System.CommandLine;
using ZetaPrep.Inspection;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep inspect OUT [--json]`: shards, rows, classes, label mass per class, γ range and N.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter stdout)
    {
        var directory = new Argument<string>("OUT") { Description = "A ZetaPrep output directory (holds manifest.json)." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON instead of text." };
        var command = new Command("inspect", "Summarise a generated dataset: shard list, rows, classes, label-mass histogram per class, γ range, N.")
        {
            directory, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var summary = await DatasetInspector.InspectAsync(parse.GetValue(directory)!, ct).ConfigureAwait(false);
            await stdout.WriteAsync(parse.GetValue(json) ? summary.ToJson() + "\n" : summary.ToText()).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
