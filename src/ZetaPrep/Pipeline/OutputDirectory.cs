using System.Globalization;
using ZetaPrep.Manifests;
using ZetaPrep.Planning;
using ZetaPrep.Shards;

namespace ZetaPrep.Pipeline;

/// <summary>
/// The --out directory of a generate run: whether it may be written (new, resumable, replaceable, or shared by workers),
/// preparing and locking it, and the one-line errors for writes that fail there.
/// </summary>
internal static class OutputDirectory
{
    /// <summary>Writes the final manifest atomically; a failure names --out and how to go on.</summary>
    public static void WriteManifest(GenerationManifest manifest, string path, string outDir, bool overwrite)
    {
        try
        {
            manifest.WriteAtomically(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(outDir, e, overwrite, shardsDone: true);
        }
    }

    /// <summary>
    /// A write that failed mid-run (or, with <paramref name="shardsDone"/>, after the last shard): finished shards are
    /// kept for --resume, which takes the place of an --overwrite in the command (both together are a usage error).
    /// </summary>
    public static ZetaPrepException WriteFailed(string outDir, Exception e, bool overwrite, bool shardsDone = false) =>
        new($"--out {outDir}: cannot write ({e.Message.TrimEnd('.')}); {(shardsDone ? "every shard is written and kept" : "the shard in progress was discarded and finished shards are kept")}: free space or fix permissions, then rerun {(overwrite ? "the command with --resume in place of --overwrite" : "the same command with --resume")}.", e);

    /// <summary>
    /// Decides whether <paramref name="outDir"/> may be written; returns the manifest to resume from, or null for a fresh
    /// run. Workers share a directory: another worker's shards and partial manifest are expected there.
    /// </summary>
    public static GenerationManifest? Check(string outDir, string manifestPath, GenerateOptions options)
    {
        RefuseFile(outDir);
        var manifestName = Path.GetFileName(manifestPath);
        if (options.Resume && File.Exists(manifestPath))
        {
            RefuseForeignManifest(outDir, manifestName);
            return GenerationManifest.Read(manifestPath);
        }
        var files = ExistingFiles(outDir);
        if (files.Count == 0)
        {
            return null;
        }
        if (options.Worker is not null)
        {
            // Other workers' outputs may already be here; only this worker's own partial manifest means "done before".
            var foreign = files.FirstOrDefault(f => !IsGeneratedFile(f));
            if (foreign is not null)
            {
                throw ZetaPrepException.Usage($"--out {outDir}: holds {foreign}, which is not a ZetaPrep output; choose a new or empty directory shared only by the workers.");
            }
            // A finished output (its shards named like this worker's) or another split's workers: writing here would replace
            // shards that output or those workers own, and leave a directory no merge can make whole again.
            if (files.Contains(GenerationManifest.FileName))
            {
                throw ZetaPrepException.Usage($"--out {outDir}: already holds a merged or single-run ZetaPrep output (manifest.json), whose shards worker {options.Worker} would overwrite; choose a new directory for the workers, or delete that output first.");
            }
            var otherSplit = files.FirstOrDefault(f => f.StartsWith("manifest.worker-", StringComparison.Ordinal)
                && !f.EndsWith($"-of-{options.Worker.Count}.json", StringComparison.Ordinal));
            if (otherSplit is not null)
            {
                throw ZetaPrepException.Usage($"--out {outDir}: holds {otherSplit}, from a split into another number of workers than this --worker {options.Worker}; use that split's I/W, or a new directory.");
            }
            if (files.Contains(manifestName))
            {
                RefuseForeignManifest(outDir, manifestName);
            }
            if (files.Contains(manifestName) && !options.Overwrite)
            {
                throw ZetaPrepException.Usage($"--out {outDir}: already holds {manifestName} from worker {options.Worker}; pass --resume to finish it, --overwrite to redo it, or choose another directory.");
            }
            return null;
        }
        if (!files.Contains(GenerationManifest.FileName) && options.Overwrite && !options.Resume
            && files.All(IsGeneratedFile) && files.Any(IsWorkerManifest))
        {
            foreach (var partial in files.Where(IsWorkerManifest))
            {
                RefuseForeignManifest(outDir, partial);
            }
            return null; // workers' output not merged yet: --overwrite replaces it like a merged one
        }
        if (!files.Contains(GenerationManifest.FileName))
        {
            var what = options.Resume ? "--resume found no manifest.json, and the directory is not empty" : "directory is not empty and holds no ZetaPrep manifest.json";
            throw ZetaPrepException.Usage($"--out {outDir}: {what}; choose a new or empty directory.");
        }
        RefuseForeignManifest(outDir, GenerationManifest.FileName);
        if (!options.Overwrite)
        {
            throw ZetaPrepException.Usage($"--out {outDir}: already holds a ZetaPrep output; pass --resume to finish it, --overwrite to replace it, or choose another directory.");
        }
        return null;
    }

    /// <summary>
    /// Refuses a directory whose manifest is another tool's (a web app's or a build's manifest.json) or not JSON at all:
    /// it is no ZetaPrep output, and --overwrite would have deleted the files in it that have shards' names, and the card
    /// over its README.md (QA).
    /// </summary>
    private static void RefuseForeignManifest(string outDir, string relative)
    {
        if (!GenerationManifest.HasOwnFormat(Path.Combine(outDir, relative)))
        {
            throw ZetaPrepException.Usage($"--out {outDir}: holds a {relative} that ZetaPrep did not write (not JSON with \"format\": \"zetaprep-manifest\"), so the directory is another tool's, not an output --overwrite may replace or --resume finish; choose a new or empty directory.");
        }
    }

    private static bool IsWorkerManifest(string relative) =>
        relative.StartsWith("manifest.worker-", StringComparison.Ordinal) && relative.EndsWith(".json", StringComparison.Ordinal);

    /// <summary>Refuses to resume into an output made with other byte-deciding options or from other inputs, saying what differs.</summary>
    public static void CheckResumable(GenerationManifest previous, GenerationOptionsRecord now, InputInfo input, string manifestPath)
    {
        var differences = previous.Options.ByteAffectingDifferences(now).ToList();
        if (previous.Tool.Version != DatasetGenerator.ToolVersion)
        {
            differences.Add($"the zetaprep version differs (manifest {previous.Tool.Version}, now {DatasetGenerator.ToolVersion})");
        }
        if (previous.Input.Fingerprint == input.Fingerprint && previous.Input.Count != input.Count)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture,
                $"the same images, but --on-error skip leaves out others (manifest {previous.Input.Count} kept, now {input.Count})"));
        }
        else if (previous.Input.Fingerprint != input.Fingerprint || previous.Input.Count != input.Count)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture,
                $"the input differs (manifest {previous.Input.Count} images, fingerprint {previous.Input.Fingerprint[..Math.Min(12, previous.Input.Fingerprint.Length)]}…; now {input.Count} images, fingerprint {input.Fingerprint[..12]}…): the images under --in or their labels changed since the first run"));
        }
        if (differences.Count > 0)
        {
            throw ZetaPrepException.Usage($"--resume: {string.Join("; ", differences)}; rerun with the original options and input or use a new --out (manifest: {manifestPath}).");
        }
    }

    /// <summary>Creates OUT/data; removes stale temporaries of this run's shards (resume) or its old shards (overwrite).</summary>
    public static void Prepare(string outDir, GenerateOptions options, IShardFormat format, IReadOnlyList<ShardPlan> owned)
    {
        try
        {
            Directory.CreateDirectory(outDir);
            var ownedFiles = owned.Select(s => format.ShardFileName(options.Split, s.Index, s.Count)).ToHashSet(StringComparer.Ordinal);
            var manifestName = options.Worker?.ManifestFileName ?? GenerationManifest.FileName;
            // Temp files are ".{final name}.tmp-{suffix}": a worker removes only its own, never a live one of another worker.
            bool Mine(string relative) => options.Worker is null || ownedFiles.Contains(relative) || relative == manifestName || OwnsImage(relative, owned);
            foreach (var path in Directory.EnumerateFiles(outDir, ".*.tmp-*", SearchOption.AllDirectories))
            {
                var name = Path.GetFileName(path);
                var final = Path.GetRelativePath(outDir, Path.Combine(Path.GetDirectoryName(path)!, name[1..name.LastIndexOf(".tmp-", StringComparison.Ordinal)])).Replace('\\', '/');
                if (Mine(final))
                {
                    File.Delete(path);
                }
            }
            if (options.Overwrite && !options.Resume)
            {
                if (options.Worker is null)
                {
                    ShardFormats.DeleteOutputs(outDir, ReplacedSplits(outDir, options.Split));
                    ValidationRecord.TryDelete(outDir);
                    // The old card describes the old shards: killed before its own card, the new run would leave it beside them.
                    File.Delete(Path.Combine(outDir, DatasetCard.FileName));
                    foreach (var partial in Directory.EnumerateFiles(outDir, "manifest.worker-*.json"))
                    {
                        File.Delete(partial);
                    }
                }
                else
                {
                    // Its shards in every format: a worker redone in another format (after a merge refused the mix) left
                    // its old ones, which merge and verify did not see (QA).
                    DeleteOwnShards(outDir, options, owned);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--out {outDir}: cannot write ({e.Message}); choose a writable directory.", e);
        }
    }

    /// <summary>A worker's shard files in every format and, in the folder format, the images of their rows.</summary>
    private static void DeleteOwnShards(string outDir, GenerateOptions options, IReadOnlyList<ShardPlan> owned)
    {
        foreach (var file in ShardFormats.Names.Select(ShardFormats.Get).SelectMany(f => owned.Select(s => f.ShardFileName(options.Split, s.Index, s.Count))))
        {
            var path = Path.Combine(outDir, file);
            if (Directory.Exists(Path.GetDirectoryName(path)))
            {
                File.Delete(path);
            }
        }
        var images = Path.Combine(outDir, FolderShardWriter.ImagesDirectory);
        if (Directory.Exists(images))
        {
            foreach (var image in Directory.EnumerateFiles(images).Where(f => OwnsImage(FolderShardWriter.ImagesDirectory + "/" + Path.GetFileName(f), owned)).ToList())
            {
                File.Delete(image);
            }
        }
    }

    /// <summary>Whether <paramref name="relative"/> is a folder-format image (images/{row:D8}.png) of a row of <paramref name="owned"/>.</summary>
    private static bool OwnsImage(string relative, IReadOnlyList<ShardPlan> owned) =>
        relative.StartsWith(FolderShardWriter.ImagesDirectory + "/", StringComparison.Ordinal)
        && ShardFormats.IsOutputFile(relative)
        && long.TryParse(Path.GetFileNameWithoutExtension(relative), NumberStyles.None, CultureInfo.InvariantCulture, out var row)
        && OwnsRow(owned, row);

    /// <summary>
    /// Whether a shard of <paramref name="owned"/> (in plan order, so by first row) holds <paramref name="row"/>: only the
    /// last one starting at or before it can. A search, as a worker's --overwrite asks it of every image in images/.
    /// </summary>
    private static bool OwnsRow(IReadOnlyList<ShardPlan> owned, long row)
    {
        int lo = 0, hi = owned.Count - 1, at = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (owned[mid].FirstRow <= row)
            {
                at = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return at >= 0 && row < owned[at].FirstRow + owned[at].Rows;
    }

    /// <summary>
    /// Removes what a run into a fresh output wrote before a bad input the validation pass let through stopped it: its
    /// shards (a worker's own, in the folder format with their images), its manifest and, for a single run, the pass's
    /// verdicts. No run can go on from them (--resume refuses the input once the file is removed or replaced), and a
    /// half-written output is worse than none. Best effort: what cannot be removed stays, as before.
    /// </summary>
    public static void RemoveStoppedRun(string outDir, GenerateOptions options, IReadOnlyList<ShardPlan> owned, string manifestPath)
    {
        try
        {
            if (options.Worker is null)
            {
                ShardFormats.DeleteOutputs(outDir, new HashSet<string>(StringComparer.Ordinal) { options.Split });
                ValidationRecord.TryDelete(outDir);
            }
            else
            {
                DeleteOwnShards(outDir, options, owned);
            }
            File.Delete(manifestPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The run's own error says what stopped it; the files left are an incomplete output, as verify would say.
        }
    }

    /// <summary>
    /// The splits whose shards an --overwrite replaces: this run's, and those the shards listed by the manifests there
    /// (manifest.json, workers' partial ones) are of. Shards of a split no manifest there lists (another output's,
    /// moved in beside these for the Hub's layout) are not this output's to delete.
    /// </summary>
    private static HashSet<string> ReplacedSplits(string outDir, string split)
    {
        var splits = new HashSet<string>(StringComparer.Ordinal) { split };
        foreach (var path in Directory.EnumerateFiles(outDir, "manifest*.json"))
        {
            var name = Path.GetFileName(path);
            if (name != GenerationManifest.FileName && !IsWorkerManifest(name))
            {
                continue;
            }
            try
            {
                foreach (var entry in GenerationManifest.Read(path).Shards)
                {
                    if (ShardFormats.IsOutputFile(entry.File, out var listed) && listed is not null)
                    {
                        splits.Add(listed);
                    }
                }
            }
            catch (ZetaPrepException)
            {
                // A damaged ZetaPrep manifest (its format checked before): its shards are this run's split's, or stay.
            }
        }
        return splits;
    }

    /// <summary>An output that cannot be written before this run's first shard: nothing of it to keep or resume.</summary>
    public static ZetaPrepException CannotWrite(string outDir, GenerationManifest? previous, Exception e) =>
        new($"--out {outDir}: cannot write ({e.Message.TrimEnd('.')}); this run wrote nothing{(previous is null ? "" : " (what an earlier run wrote there is kept)")}: fix the folder's permissions or free space, or choose another --out.", e);

    /// <summary>The output's lock (<see cref="OutputLock"/>), or one line saying why it cannot be had.</summary>
    public static OutputLock Lock(string outDir, WorkerSpec? worker, GenerationManifest? previous)
    {
        try
        {
            return OutputLock.Acquire(outDir, worker);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(outDir, previous, e);
        }
    }

    /// <summary>The manifest's bytes as they are now (empty when there is none), to tell whether another run wrote one.</summary>
    public static byte[] ManifestBytes(string manifestPath)
    {
        try
        {
            return File.Exists(manifestPath) ? File.ReadAllBytes(manifestPath) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"{manifestPath}: cannot read ({e.Message.TrimEnd('.')}); fix its permissions, or choose another --out.", e);
        }
    }

    /// <summary>--out must be a directory (or not exist yet).</summary>
    public static void RefuseFile(string outDir)
    {
        if (File.Exists(outDir))
        {
            throw ZetaPrepException.Usage($"--out {outDir}: is a file; give a directory (new or empty).");
        }
    }

    /// <summary>
    /// The files already under <paramref name="outDir"/> (relative, '/'-separated; none when it does not exist), less
    /// temporaries, the validation record and the lock files: those alone (generate --validate-only, a run that failed
    /// after taking its lock) leave a directory "empty".
    /// </summary>
    public static List<string> ExistingFiles(string outDir)
    {
        if (!Directory.Exists(outDir))
        {
            return [];
        }
        var record = ValidationRecord.PathIn(outDir);
        return Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
            .Where(f => !IsTempFile(Path.GetFileName(f)) && f != record)
            .Select(f => Path.GetRelativePath(outDir, f).Replace('\\', '/'))
            .Where(f => !OutputLock.IsLockFile(f))
            .ToList();
    }

    private static bool IsTempFile(string name) => name.StartsWith('.') && name.Contains(".tmp-", StringComparison.Ordinal);

    public static bool IsGeneratedFile(string relative) =>
        relative == GenerationManifest.FileName
        || relative == ValidationRecord.FileName
        || IsWorkerManifest(relative)
        || relative == DatasetCard.FileName
        || ShardFormats.IsOutputFile(relative);
}
