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
            var given = parse.GetValue(dataDir);
            var root = SourceResolver.DataDirectory(given);
            var named = given is not null ? "--data-dir" : string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SourceResolver.DataEnvironmentVariable)) ? null : "$" + SourceResolver.DataEnvironmentVariable;
            if (File.Exists(root))
            {
                throw ZetaPrepException.Usage($"{named ?? "data directory"} {root}: is a file; give the directory that holds one folder per preset (DATA-DIR/isic2017/…).");
            }
            if (given is not null && !Directory.Exists(root))
            {
                throw ZetaPrepException.Usage($"--data-dir {root}: directory not found; create it and put the downloads in DATA-DIR/<preset>/, or leave --data-dir out.");
            }
            var absent = Directory.Exists(root) ? "" : " — not found, so no files are present yet";
            await stdout.WriteLineAsync($"data directory: {root}{absent} (download from {SourceResolver.DownloadPage}; put files in DATA-DIR/<preset>/ as downloaded)").ConfigureAwait(false);
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
                    var states = files.ToDictionary(f => f, f => FileState(Path.Combine(dir, f)), StringComparer.Ordinal);
                    var found = states.Values.Count(v => v == "found");
                    var ready = split.RequiredFiles(withDuplicates: false).All(f => states[f] == "found");
                    await stdout.WriteLineAsync($"  {name}: {(ready ? "ready" : "incomplete")} ({found}/{files.Count} files in {dir})").ConfigureAwait(false);
                    foreach (var f in files)
                    {
                        var optional = f == split.Duplicates ? " (optional, for --exclude-duplicates)" : "";
                        await stdout.WriteLineAsync($"    [{states[f]}] {f}{optional}").ConfigureAwait(false);
                    }
                }
            }
            return 0;
        });
        return command;
    }

    /// <summary>found, missing, or what is wrong with a file that is there but cannot be the download (an interrupted one leaves such files).</summary>
    private static string FileState(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return Directory.Exists(path) ? "not a file: a folder of that name" : "missing";
        }
        if (info.Length == 0)
        {
            return "empty: 0 bytes, download it again";
        }
        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            // Every zip starts with a local file header or, when empty, the end-of-central-directory record: "PK\x03\x04" / "PK\x05\x06".
            Span<byte> head = stackalloc byte[4];
            try
            {
                using var stream = info.OpenRead();
                if (stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4 || !(head.SequenceEqual("PK\x03\x04"u8) || head.SequenceEqual("PK\x05\x06"u8)))
                {
                    return "not a zip, download it again";
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"unreadable: {e.Message.TrimEnd('.')}";
            }
        }
        return "found";
    }
}
