using System.Globalization;

namespace ZetaPrep.Training;

/// <summary>
/// The files of one training run directory and how they change: created late (after every check), each epoch committed
/// as one step (all new bytes to temp files first, then renames), and removed again when a fresh run fails before its
/// first epoch is committed. Write errors (read-only, disk full, a file in the way) become one-line
/// <see cref="ZetaPrepException"/>s naming the path.
/// </summary>
internal sealed class RunFiles
{
    private readonly bool _resume;
    private string? _createdRoot;
    private bool _wroteConfig;

    private RunFiles(string directory, bool resume)
    {
        Directory = directory;
        _resume = resume;
    }

    public string Directory { get; }

    /// <summary>Whether an epoch has been committed by this process (from then on a failure keeps the run for --resume).</summary>
    public bool CommittedEpoch { get; private set; }

    /// <summary>Creates the run directory (and missing parents), remembering which of them this run made.</summary>
    public static RunFiles Create(string directory, bool resume)
    {
        var files = new RunFiles(directory, resume);
        try
        {
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
            // The topmost missing ancestor: removed again (if still empty) when the run fails before its first epoch.
            string? topMissing = null;
            for (var d = full; !string.IsNullOrEmpty(d) && !System.IO.Directory.Exists(d); d = Path.GetDirectoryName(d))
            {
                if (File.Exists(d))
                {
                    throw new IOException($"{d} is a file, not a directory");
                }

                topMissing = d;
            }

            System.IO.Directory.CreateDirectory(full);
            files._createdRoot = topMissing;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ZetaPrepException($"--out {directory}: cannot create the run directory ({Reason(e)}); choose a writable location for --out.", e);
        }

        return files;
    }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Writes config.json whole (temp + rename).</summary>
    public void WriteConfig(RunConfig config)
    {
        var path = PathOf(RunConfig.FileName);
        try
        {
            config.Write(path);
            _wroteConfig = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--out {Directory}: cannot write {path} ({Reason(e)}); free space or fix permissions, or choose another --out.", e);
        }
    }

    /// <summary>
    /// Saves epoch <paramref name="state"/>.Epoch: last.pt, last.optimizer.pt, best.pt (when <paramref name="saveBest"/>),
    /// metrics.jsonl (every line of <paramref name="history"/>) and last.json. Every file is written under a temp name
    /// first; only when all were written are they renamed into place, last.json last (it names the epoch the others end,
    /// so a failure before it leaves the previous epoch's files in force and the run resumable). A failed write removes
    /// the temp files and throws, leaving the directory as the previous epoch left it.
    /// </summary>
    public void CommitEpoch(Action<string> saveModel, Action<string> saveOptimizer, bool saveBest, IReadOnlyList<EpochMetrics> history, TrainState state)
    {
        var staged = new List<(string Temp, string Final)>();
        void Stage(string name, Action<string> write)
        {
            var final = PathOf(name);
            var temp = TempName(final);
            staged.Add((temp, final));
            write(temp);
            using var written = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite);
            written.Flush(flushToDisk: true);
        }

        try
        {
            Stage(Trainer.LastFile, saveModel);
            Stage(Trainer.LastOptimizerFile, saveOptimizer);
            if (saveBest)
            {
                Stage(Trainer.BestFile, saveModel);
            }

            Stage(Trainer.MetricsFile, temp => File.WriteAllLines(temp, history.Select(m => m.ToJsonLine())));
            Stage(TrainState.FileName, state.Write);
            foreach (var (temp, final) in staged)
            {
                File.Move(temp, final, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var (temp, _) in staged)
            {
                TryDelete(temp);
            }

            var kept = state.Epoch > 1 && (_resume || CommittedEpoch)
                ? string.Create(CultureInfo.InvariantCulture, $"epochs 1–{state.Epoch - 1} stay saved there: free space or fix permissions, then rerun with --resume")
                : "nothing was saved: free space or fix permissions, then train again";
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                $"--out {Directory}: cannot save epoch {state.Epoch} ({Reason(e)}); {kept}."), e);
        }

        CommittedEpoch = true;
    }

    /// <summary>Writes curves.png; a failure says that the epoch itself is saved.</summary>
    public void WriteCurves(IReadOnlyList<EpochMetrics> history)
    {
        var path = PathOf(Trainer.CurvesFile);
        try
        {
            CurvePlotter.Write(history, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                $"--out {Directory}: cannot write {path} ({Reason(e)}); epoch {history[^1].Epoch} is saved: free space or fix permissions, then rerun with --resume."), e);
        }
    }

    /// <summary>
    /// After a fresh run failed before its first epoch was saved: removes config.json and the directories this run created,
    /// so a failed start leaves nothing behind. A resumed run keeps everything.
    /// </summary>
    public void RemoveUnfinishedStart()
    {
        if (_resume || CommittedEpoch)
        {
            return;
        }

        if (_wroteConfig)
        {
            TryDelete(PathOf(RunConfig.FileName));
        }

        if (_createdRoot is null)
        {
            return;
        }

        // Only empty directories: anything else in them is not this run's.
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Directory));
        for (var d = full; d is not null && d.Length >= _createdRoot.Length; d = Path.GetDirectoryName(d))
        {
            try
            {
                System.IO.Directory.Delete(d, recursive: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    /// <summary>Beside the file, named after it and this process (a stale one is replaced by the next save).</summary>
    internal static string TempName(string path) => $"{path}.tmp-{Environment.ProcessId}";

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error being reported matters more.
        }
    }

    private static string Reason(Exception e) => e.Message.TrimEnd('.');
}
