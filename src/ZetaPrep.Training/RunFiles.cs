using System.Globalization;
using System.Text.RegularExpressions;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Training;

/// <summary>
/// The files of one training run directory and how they change: created late (after every check), each epoch committed
/// as one step (all new bytes to temp files first, then renames), and removed again when a fresh run fails before its
/// first epoch is committed. Write errors (read-only, disk full, a file in the way) become one-line
/// <see cref="ZetaPrepException"/>s naming the path. From creation to <see cref="Dispose"/> the directory is locked
/// (<see cref="OutputLock"/>, as generate's --out): a second run on it is refused before it writes anything.
/// </summary>
internal sealed partial class RunFiles : IDisposable
{
    /// <summary>Every file a run writes (besides the lock file and temp files).</summary>
    internal static readonly string[] FileNames = [Trainer.MetricsFile, Trainer.BestFile, Trainer.LastFile, Trainer.LastOptimizerFile, TrainState.FileName, RunConfig.FileName, Trainer.CurvesFile];

    private readonly bool _resume;
    private string? _createdRoot;
    private bool _wroteConfig;
    private OutputLock? _lock;

    private RunFiles(string directory, bool resume)
    {
        Directory = directory;
        _resume = resume;
    }

    public string Directory { get; }

    /// <summary>Whether an epoch has been committed by this process (from then on a failure keeps the run for --resume).</summary>
    public bool CommittedEpoch { get; private set; }

    /// <summary>
    /// Creates the run directory (and missing parents), remembering which of them this run made, and locks it; a
    /// directory another zetaprep run holds is a <see cref="ZetaPrepException"/> ("another zetaprep run is writing there").
    /// </summary>
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
            files._lock = OutputLock.Acquire(directory, worker: null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ZetaPrepException($"--out {directory}: cannot create the run directory ({Reason(e)}); choose a writable location for --out.", e);
        }

        return files;
    }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>
    /// Refuses (usage error) a directory that holds anything but a zetaprep run's files: a fresh run would overwrite a
    /// user's config.json, best.pt or curves.png without a word. An empty directory, a killed run's files (a valid
    /// config.json, temp files) and the lock file are fine. A missing directory is fine too.
    /// </summary>
    public static void RefuseForeignFiles(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return;
        }

        var configPath = Path.Combine(directory, RunConfig.FileName);
        string? configProblem = null;
        if (File.Exists(configPath))
        {
            try
            {
                RunConfig.Read(configPath);
            }
            catch (Exception e) when (e is ZetaPrepException or IOException or UnauthorizedAccessException)
            {
                configProblem = "not a zetaprep train config.json";
            }
        }

        var validConfig = File.Exists(configPath) && configProblem is null;
        var foreign = new List<string>();
        foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(entry);
            if (System.IO.Directory.Exists(entry))
            {
                foreign.Add(name + "/");
            }
            else if (name == RunConfig.FileName && configProblem is not null)
            {
                foreign.Add($"{name} ({configProblem})");
            }
            else if (!OutputLock.IsLockFile(name) && RunFileTemp(name) is null && !(validConfig && FileNames.Contains(name, StringComparer.Ordinal)))
            {
                foreign.Add(name);
            }
        }

        if (foreign.Count > 0)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--out {directory}: holds files that are not a zetaprep run's ({string.Join(", ", foreign.Take(3))}{(foreign.Count > 3 ? $" and {foreign.Count - 3} more" : "")}), which training would overwrite or mix with its own: choose a new or empty directory for --out."));
        }
    }

    /// <summary>
    /// Deletes the temp files of run files that an earlier process left (killed during a save: up to the size of
    /// three checkpoints); called with the lock held, so no live run owns them. This process's own names are left:
    /// its next save replaces them.
    /// </summary>
    public void RemoveStaleTemps()
    {
        var own = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var entry in System.IO.Directory.EnumerateFiles(Directory))
        {
            if (RunFileTemp(Path.GetFileName(entry)) is { } match && match.Groups["pid"].Value != own)
            {
                TryDelete(entry);
            }
        }
    }

    /// <summary>
    /// A temp file of a run file: <c>NAME.tmp-PID</c> (an epoch's staged files) or <c>.NAME.tmp-PID-GUID</c> (files
    /// written whole by <see cref="ZetaPrep.Shards.AtomicFile"/>, last.json's staged copy included).
    /// </summary>
    [GeneratedRegex(@"\A\.?(?<name>.+?)\.tmp-(?<pid>[0-9]+)([-.][-.a-z0-9]*)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex TempFile();

    /// <summary>The match when <paramref name="name"/> is a temp file of one of the <see cref="FileNames"/>; else null.</summary>
    private static Match? RunFileTemp(string name) =>
        TempFile().Match(name) is { Success: true } match && FileNames.Contains(match.Groups["name"].Value, StringComparer.Ordinal) ? match : null;

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

        // The lock file goes with the lock, so that an --out this run created is empty again.
        Dispose();
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

    /// <summary>Lets the directory's lock go (deleting the lock file); nothing else changes.</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>Beside the file, named after it and this process (a killed process's are removed by <see cref="RemoveStaleTemps"/>).</summary>
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
