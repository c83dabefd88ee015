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
    /// The worker from --worker, else Slurm job arrays (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT or --workers), else
    /// Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX with --workers or ZETAPREP_WORKERS); null = the whole plan.
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
            var count = workers ?? Env(environment, "SLURM_ARRAY_TASK_COUNT")
                ?? throw ZetaPrepException.Usage("SLURM_ARRAY_TASK_ID is set but the worker count is not: pass --workers W (or run in a Slurm array, which sets SLURM_ARRAY_TASK_COUNT).");
            return FromEnvironment("SLURM_ARRAY_TASK_ID", slurmId, count);
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

    private static WorkerSpec FromEnvironment(string name, int index, int count)
    {
        if (index < 0 || index >= count)
        {
            throw ZetaPrepException.Usage($"{name}={index} is outside 0..{count - 1} for {count} workers; Slurm arrays must be 0-based (--array=0-{count - 1}).");
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
            : throw ZetaPrepException.Usage($"environment {name}='{value}' is not a non-negative integer.");
    }
}
