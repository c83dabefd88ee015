using System.CommandLine;
using ZetaPrep.Manifests;
using ZetaPrep.Sources;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep datasets`: the built-in presets, their splits and classes, and which official files are present locally.</summary>
internal static class DatasetsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var dataDir = new Option<string?>("--data-dir") { Description = $"Where preset folders live; default ${SourceResolver.DataEnvironmentVariable}, else ./data." };
        var command = new Command("datasets", "List dataset presets (usable as generate --in NAME), their splits, classes and which files are found locally.") { dataDir };
        command.SetAction(async (parse, ct) =>
        {
            var root = SourceResolver.DataDirectory(parse.GetValue(dataDir));
            await stdout.WriteLineAsync($"data directory: {root} (download from {SourceResolver.DownloadPage}; put files in DATA-DIR/<preset>/ as downloaded)").ConfigureAwait(false);
            foreach (var preset in DatasetPresets.All)
            {
                ct.ThrowIfCancellationRequested();
                var dir = Path.Combine(root, preset.Name);
                await stdout.WriteLineAsync().ConfigureAwait(false);
                await stdout.WriteLineAsync($"{preset.Name}: {preset.Title}").ConfigureAwait(false);
                await stdout.WriteLineAsync($"  classes: {string.Join(", ", preset.Classes)}").ConfigureAwait(false);
                await stdout.WriteLineAsync($"  licence: {preset.Licence}; download: {preset.DownloadUrl}").ConfigureAwait(false);
                foreach (var (name, split) in preset.Splits)
                {
                    var files = split.RequiredFiles(withDuplicates: true);
                    var found = files.Count(f => File.Exists(Path.Combine(dir, f)));
                    var ready = split.RequiredFiles(withDuplicates: false).All(f => File.Exists(Path.Combine(dir, f)));
                    await stdout.WriteLineAsync($"  {name}: {(ready ? "ready" : "incomplete")} ({found}/{files.Count} files in {dir})").ConfigureAwait(false);
                    foreach (var f in files)
                    {
                        var optional = f == split.Duplicates ? " (optional, for --exclude-duplicates)" : "";
                        await stdout.WriteLineAsync($"    [{(File.Exists(Path.Combine(dir, f)) ? "found" : "missing")}] {f}{optional}").ConfigureAwait(false);
                    }
                }
            }
            return 0;
        });
        return command;
    }
}
