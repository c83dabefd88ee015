using System.Globalization;
using System.Text.RegularExpressions;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Pipeline;

/// <summary>
/// <c>zetaprep merge OUT</c>: joins the workers' partial manifests (manifest.worker-I-of-W.json) into OUT/manifest.json,
/// after checking they describe one plan from one input and that every planned shard is present with its recorded bytes.
/// </summary>
public static partial class PartialManifestMerge
{
    /// <summary>Writes and returns the merged manifest; any mismatch, missing or damaged shard is a <see cref="ZetaPrepException"/> naming it.</summary>
    public static async Task<GenerationManifest> MergeAsync(string outDir, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        outDir = Path.GetFullPath(outDir);
        if (!Directory.Exists(outDir))
        {
            throw ZetaPrepException.Usage($"merge {outDir}: no such directory; give the --out directory the workers wrote to.");
        }
        // A worker still writing: its partial manifest does not list its newest shards yet, and merging would join an
        // unfinished output (or refuse it with advice, to rerun that worker, that its lock refuses).
        if (OutputLock.WritersIn(outDir) is { } w)
        {
            throw new ZetaPrepException($"merge {outDir}: {w.Who} still writing there (holding {w.Locks}); nothing was merged: run merge again after {w.Ends}.");
        }
        var partials = Directory.EnumerateFiles(outDir, "manifest.worker-*-of-*.json")
            .Select(path => (Path: path, Match: PartialName().Match(Path.GetFileName(path))))
            .Where(p => p.Match.Success)
            .Select(p => (p.Path, Manifest: GenerationManifest.Read(p.Path)))
            .OrderBy(p => p.Manifest.Worker?.Index ?? -1)
            .ToList();
        if (partials.Count == 0)
        {
            throw new ZetaPrepException($"merge {outDir}: no partial manifests (manifest.worker-I-of-W.json); run zetaprep generate --worker I/W into it first.");
        }

        var problems = new List<string>();
        var (referencePath, reference) = partials[0];
        foreach (var (path, m) in partials)
        {
            var name = Path.GetFileName(path);
            if (m.Worker is null || name != $"manifest.worker-{m.Worker.Index}-of-{m.Worker.Count}.json")
            {
                problems.Add($"{name} does not record that worker");
                continue;
            }
            if (ReferenceEquals(m, reference))
            {
                continue;
            }
            // Each value is said with the file holding it: "(manifest X, now Y)" would not tell which worker has which.
            var referenceName = Path.GetFileName(referencePath);
            var differences = reference.Options.ByteAffectingDifferences(m.Options, referenceName, name).ToList();
            if (m.Worker.Count != reference.Worker?.Count)
            {
                differences.Add($"worker count differs ({reference.Worker?.Count} vs {m.Worker.Count})");
            }
            if (m.Input.Fingerprint != reference.Input.Fingerprint || m.Input.Count != reference.Input.Count)
            {
                differences.Add("input fingerprint differs (other images or labels)");
            }
            if (m.Plan != reference.Plan || !m.Classes.SequenceEqual(reference.Classes) || m.Tool != reference.Tool)
            {
                differences.Add("plan, classes or tool version differ");
            }
            if (differences.Count > 0)
            {
                problems.Add($"{referenceName} vs {name}: {string.Join(", ", differences)}");
            }
        }
        if (problems.Count > 0)
        {
            throw new ZetaPrepException($"merge {outDir}: the partial manifests do not describe one generation: {string.Join("; ", problems)}; rerun the mismatched workers with the same options and input.");
        }

        var format = ShardFormats.Get(reference.Options.Format);
        var workers = reference.Worker!.Count;
        var shardCount = reference.Plan.Shards;
        var entries = new SortedDictionary<string, ShardEntry>(StringComparer.Ordinal);
        foreach (var entry in partials.SelectMany(p => p.Manifest.Shards))
        {
            entries.TryAdd(entry.File, entry);
        }
        var split = entries.Keys.Select(f => ShardName().Match(f)).FirstOrDefault(m => m.Success)?.Groups[1].Value ?? "train";
        var missing = new List<string>();
        for (var k = 0; k < shardCount; k++)
        {
            var file = format.ShardFileName(split, k, shardCount);
            if (!entries.ContainsKey(file))
            {
                missing.Add(string.Create(CultureInfo.InvariantCulture, $"{file} (worker {k % workers}/{workers})"));
            }
        }
        if (missing.Count > 0)
        {
            var absent = Enumerable.Range(0, workers).Where(i => partials.All(p => p.Manifest.Worker!.Index != i)).ToList();
            var note = absent.Count > 0 ? $"; no partial manifest from worker(s) {string.Join(", ", absent)}" : "";
            throw new ZetaPrepException($"merge {outDir}: {missing.Count} of {shardCount} shard(s) missing: {Names(missing)}{note}; run (or --resume) those workers, then merge again.");
        }
        foreach (var entry in entries.Values)
        {
            if (await ShardFileCheck.ProblemAsync(outDir, entry, format, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                problems.Add($"{entry.File} ({problem})");
            }
        }
        if (problems.Count > 0)
        {
            throw new ZetaPrepException($"merge {outDir}: {problems.Count} shard(s) do not match their manifest: {Names(problems)}; rerun the owning worker with --resume, then merge again.");
        }

        // The record is of the whole dataset: the command that makes all of it (a worker's command makes only its share),
        // and each worker's own command and time below it.
        var merged = reference with
        {
            CommandLine = WholeDatasetCommand(reference.CommandLine),
            Workers = [.. partials.Select(p => new WorkerRun(p.Manifest.Worker!.Index, p.Manifest.Worker.Count, p.Manifest.CommandLine, p.Manifest.StartedUtc, p.Manifest.WallTimeS))],
            Shards = [.. entries.Values],
            Totals = new Totals(entries.Values.Sum(e => e.Rows), entries.Values.Sum(e => e.Bytes)),
            Complete = true,
            Worker = null,
            StartedUtc = partials.Min(p => p.Manifest.StartedUtc),
            WallTimeS = partials.Max(p => p.Manifest.WallTimeS),
        };
        // The dataset-level files describe every shard, so only the merge can write them.
        try
        {
            await format.FinishAsync(outDir, [.. entries.Keys], cancellationToken).ConfigureAwait(false);
            DatasetCard.WriteAtomically(outDir, merged);
            merged.WriteAtomically(Path.Combine(outDir, GenerationManifest.FileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"merge {outDir}: cannot write ({e.Message.TrimEnd('.')}); the shards and partial manifests are untouched: free space or fix permissions, then run zetaprep merge {outDir} again.", e);
        }
        ValidationRecord.TryDelete(outDir); // the workers' validation record: nothing is left to resume
        return merged;
    }

    /// <summary>A worker's command line without --worker/--workers (either as "--worker I/W" or "--worker=I/W"): the single-machine command.</summary>
    public static string WholeDatasetCommand(string workerCommandLine)
    {
        ArgumentNullException.ThrowIfNull(workerCommandLine);
        var words = ShellWords.Split(workerCommandLine);
        var kept = new List<string>(words.Count);
        for (var i = 0; i < words.Count; i++)
        {
            var w = words[i];
            if (w is "--worker" or "--workers")
            {
                i++; // and its value
                continue;
            }
            if (w.StartsWith("--worker=", StringComparison.Ordinal) || w.StartsWith("--worker:", StringComparison.Ordinal)
                || w.StartsWith("--workers=", StringComparison.Ordinal) || w.StartsWith("--workers:", StringComparison.Ordinal))
            {
                continue;
            }
            kept.Add(w);
        }
        return ShellWords.Join(kept);
    }

    private static string Names(List<string> items) =>
        items.Count <= 6 ? string.Join(", ", items) : string.Join(", ", items.Take(6)) + $", … and {items.Count - 6} more";

    [GeneratedRegex(@"^manifest\.worker-\d+-of-\d+\.json$", RegexOptions.CultureInvariant)]
    private static partial Regex PartialName();

    [GeneratedRegex(@"^data/(.+)-\d{5}-of-\d{5}\.parquet$", RegexOptions.CultureInvariant)]
    private static partial Regex ShardName();
}
