using System.Globalization;

namespace ZetaPrep.Pipeline;

/// <summary>
/// <c>--worker I/W</c>: this process writes shards I, I+W, I+2W, … of the plan (0 ≤ I &lt; W) and the partial manifest
/// <c>manifest.worker-I-of-W.json</c>; <c>zetaprep merge</c> joins the W partial manifests.
/// </summary>
public sealed record WorkerSpec
{
    public int Index { get; }

    public int Count { get; }

    public WorkerSpec(int index, int count)
    {
        if (count < 1 || index < 0 || index >= count)
        {
            throw ZetaPrepException.Usage($"--worker {index}/{count}: needs 0 ≤ I < W (e.g. --worker 0/4 … --worker 3/4).");
        }
        Index = index;
        Count = count;
    }

    /// <summary>Whether shard <paramref name="shardIndex"/> belongs to this worker.</summary>
    public bool Owns(int shardIndex) => shardIndex % Count == Index;

    /// <summary>File name of this worker's partial manifest (one per worker, so workers sharing a directory never write the same file).</summary>
    public string ManifestFileName => string.Create(CultureInfo.InvariantCulture, $"manifest.worker-{Index}-of-{Count}.json");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Parses <c>I/W</c>; anything else is a usage error naming --worker.</summary>
    public static WorkerSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            throw ZetaPrepException.Usage($"--worker: '{text}' is not I/W; give this worker's index and the worker count, e.g. --worker 0/4.");
        }
        return new WorkerSpec(index, count);
    }

    /// <summary>
    /// The worker from --worker, else Slurm job arrays (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT
    /// or --workers), else Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX with --workers or ZETAPREP_WORKERS); null = the whole plan.
    /// </summary>
    public static WorkerSpec? Resolve(string? worker, int? workers, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (workers is < 1)
        {
            throw ZetaPrepException.Usage($"--workers: must be ≥ 1 (got {workers}).");
        }
        if (!string.IsNullOrWhiteSpace(worker))
        {
            var spec = Parse(worker);
            if (workers is int w && w != spec.Count)
            {
                throw ZetaPrepException.Usage($"--worker {spec} and --workers {w} disagree; give one of them.");
            }
            return spec;
        }
        if (Env(environment, "SLURM_ARRAY_TASK_ID") is { } slurmId)
        {
            return FromSlurm(slurmId, workers, environment);
        }
        if (Env(environment, "JOB_COMPLETION_INDEX") is { } jobIndex)
        {
            var count = workers ?? Env(environment, "ZETAPREP_WORKERS")
                ?? throw ZetaPrepException.Usage("JOB_COMPLETION_INDEX is set but the worker count is not: pass --workers W or set ZETAPREP_WORKERS to the Job's completions.");
            return FromEnvironment("JOB_COMPLETION_INDEX", jobIndex, count);
        }
        return workers is int only && only > 1
            ? throw ZetaPrepException.Usage($"--workers {only}: give this worker's index with --worker I/{only} (or run under a Slurm array or Kubernetes Indexed Job).")
            : null;
    }

    /// <summary>
    /// A Slurm array task: its index is SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, so that --array=1-8 works as --array=0-7
    /// (task 1 had run as worker 1 of 8 and task 8 failed, leaving shard 0 unwritten). An array whose task ids have gaps (a
    /// step, --array=0-15:4, or a list, --array=1,3,7) has no such index and is refused, the same way in every task, since
    /// each task sees the same MIN, MAX, COUNT and STEP. Without SLURM_ARRAY_TASK_MIN the id is taken as 0-based.
    /// </summary>
    private static WorkerSpec FromSlurm(int id, int? workers, Func<string, string?> environment)
    {
        var min = Env(environment, "SLURM_ARRAY_TASK_MIN");
        var max = Env(environment, "SLURM_ARRAY_TASK_MAX");
        var tasks = Env(environment, "SLURM_ARRAY_TASK_COUNT");
        var step = Env(environment, "SLURM_ARRAY_TASK_STEP");
        var span = min is int lo && max is int hi ? hi - lo + 1 : (int?)null;
        if (step is > 1 || (span is int range && tasks is int c && range != c))
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"SLURM_ARRAY_TASK_ID={id}: this Slurm array's task ids have gaps (SLURM_ARRAY_TASK_MIN={min}, MAX={max}, COUNT={tasks}, STEP={step?.ToString(CultureInfo.InvariantCulture) ?? "unset"}), so they are no worker indices; submit a contiguous range, --array=0-{(tasks ?? 1) - 1} (a %-throttle is fine), or give --worker I/W."));
        }
        // --workers other than the array's size: with more, the workers past the array's last task never run (their shards
        // missing at merge, after every task's work); with fewer, the tasks past them fail. A failed subset resubmitted
        // as its own array (--array=5-6 of 8) would even be renumbered from 0: rerun such workers with --worker I/W.
        if (workers is int w && (tasks ?? span) is int size && w != size)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--workers {w} differs from this Slurm array's {size} task(s) (SLURM_ARRAY_TASK_COUNT), whose tasks are workers 0..{size - 1}: submit --array=0-{w - 1} for {w} workers (or leave --workers out), or run single workers with --worker I/{w}."));
        }
        var count = workers ?? tasks ?? span
            ?? throw ZetaPrepException.Usage("SLURM_ARRAY_TASK_ID is set but the worker count is not: pass --workers W (or run in a Slurm array, which sets SLURM_ARRAY_TASK_COUNT).");
        var first = min ?? 0;
        var index = id - first;
        if (index < 0 || index >= count)
        {
            throw ZetaPrepException.Usage(min is null
                ? $"SLURM_ARRAY_TASK_ID={id} is outside 0..{count - 1} for {count} workers, and SLURM_ARRAY_TASK_MIN is not set to say where the array starts; give --worker I/{count}."
                : $"SLURM_ARRAY_TASK_ID={id} is task {index} of an array starting at {first}, outside 0..{count - 1} for {count} workers; make --workers the array's task count, or give --worker I/W.");
        }
        return new WorkerSpec(index, count);
    }

    private static WorkerSpec FromEnvironment(string name, int index, int count)
    {
        if (index < 0 || index >= count)
        {
            throw ZetaPrepException.Usage($"{name}={index} is outside 0..{count - 1} for {count} workers; set the worker count to the Job's completions (--workers or ZETAPREP_WORKERS).");
        }
        return new WorkerSpec(index, count);
    }

    private static int? Env(Func<string, string?> environment, string name)
    {
        var value = environment(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        return int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw ZetaPrepException.Usage($"environment {name}='{value}' is not an integer from 0 to {int.MaxValue}.");
    }
}
