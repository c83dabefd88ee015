using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ZetaPrep.Pipeline;

/// <summary>
/// Thread-safe per-stage time accumulators for --profile: summed across threads (CPU-seconds spent in each stage),
/// so comparing them with wall time shows whether a run is decode-, encode-, mix- or I/O-bound.
/// </summary>
public sealed class StageTimes
{
    public enum Stage
    {
        Validate,
        Read,
        Decode,
        Mix,
        Encode,
        Write,
        WaitForBatch,

        /// <summary>Finished batches waiting for the writer to take them (the writer is behind the workers).</summary>
        ReadyUnwritten,
    }

    /// <summary>Points on the run's wall clock, in order: where set-up ends and the batches begin and end.</summary>
    public enum Phase
    {
        Start,
        Listed,
        Validated,
        FirstBatchReady,
        BatchesWritten,
        Done,
    }

    private readonly long[] _marks = new long[Enum.GetValues<Phase>().Length];

    /// <summary>Inputs whose validation verdicts came from the record of the run being resumed (0: the pass ran).</summary>
    public int ValidationReused { get; set; }

    /// <summary>The reused verdicts came from the cache for unchanged inputs, not from the resumed run's record.</summary>
    public bool ValidationFromCache { get; set; }

    /// <summary>The input files (archives, label files) hashed for the manifest beside the run: how many, their bytes, how
    /// long the hash took from the listing on, and how long the finished run then waited for it.</summary>
    public sealed record FilesHashed(int Files, int FromCache, long Bytes, double Seconds, double WaitedSeconds);

    /// <summary>Set when the run hashed input files for its manifest (preset and <c>--labels</c> sources).</summary>
    public FilesHashed? InputFilesHashed { get; set; }

    /// <summary>Records when <paramref name="phase"/> was reached (the first time only).</summary>
    public void Mark(Phase phase) => Interlocked.CompareExchange(ref _marks[(int)phase], Stopwatch.GetTimestamp(), 0);

    private readonly long[] _ticks = new long[Enum.GetValues<Stage>().Length];
    private readonly long[] _counts = new long[Enum.GetValues<Stage>().Length];

    public void Add(Stage stage, long stopwatchTicks, long count = 1)
    {
        Interlocked.Add(ref _ticks[(int)stage], stopwatchTicks);
        Interlocked.Add(ref _counts[(int)stage], count);
    }

    private long _cudaBatches;
    private long _floatKernelBatches;

    /// <summary>
    /// One more batch mixed on the GPU (the Mix stage counts all batches), by the integer kernel or (<paramref name="kernel"/>
    /// another) a float one.
    /// </summary>
    public void CountCudaBatch(string kernel)
    {
        Interlocked.Increment(ref _cudaBatches);
        if (!Mixing.Cuda.CudaMixer.IsInteger(kernel))
        {
            Interlocked.Increment(ref _floatKernelBatches);
        }
    }

    /// <summary>Why some GPU batches used the float kernels (same bytes, slower), or nothing when none did.</summary>
    private string FloatKernelNote()
    {
        var slow = Interlocked.Read(ref _floatKernelBatches);
        return slow == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; {slow} by the float kernels ({Mixing.Cuda.CudaMixer.QuantizedUnavailable ?? "image rows not a multiple of 16 bytes, or batches over 384 inputs"}; same bytes, slower)");
    }

    /// <summary>Set when --device auto did not open the GPU because the run mixes too little (<see cref="DatasetGenerator.GpuWorthOpening"/>).</summary>
    public bool GpuLeftClosed { get; set; }

    private (int Count, long Bytes) _pixelBuffers, _pngBuffers;

    /// <summary>The batch buffers the run made (the most in use at once): decoded/mixed pixels and encoded PNGs.</summary>
    public void RecordBuffers(int pixelBuffers, long pixelBytes, int pngBuffers, long pngBytes)
    {
        _pixelBuffers = (pixelBuffers, pixelBytes);
        _pngBuffers = (pngBuffers, pngBytes);
    }

    public TimeSpan Total(Stage stage) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)stage]));

    public long Count(Stage stage) => Interlocked.Read(ref _counts[(int)stage]);

    /// <summary>A small table: stage, seconds summed over threads, count, ms per item.</summary>
    public string Format(TimeSpan wall)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"stage          thread-s   items   ms/item   (wall {wall.TotalSeconds:F2} s)");
        foreach (var stage in Enum.GetValues<Stage>())
        {
            var t = Total(stage).TotalSeconds;
            var n = Count(stage);
            sb.AppendLine(CultureInfo.InvariantCulture, $"{stage,-14} {t,8:F3} {n,7} {(n > 0 ? 1000 * t / n : 0),9:F3}");
        }

        // Queue occupancy: the writer idle (queue empty) means the workers are the bottleneck; finished batches left
        // waiting (queue full) mean the writer — Parquet encoding and the disk — is.
        double w = Math.Max(wall.TotalSeconds, 1e-9);
        double empty = Total(Stage.WaitForBatch).TotalSeconds, full = Total(Stage.ReadyUnwritten).TotalSeconds;
        long batches = Math.Max(1, Count(Stage.ReadyUnwritten));
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"queue: empty {100 * empty / w:F0}% of wall (writer waiting for batches); finished batches waited {1000 * full / batches:F1} ms each for the writer");
        // Where batches mixed: with --device auto the first ones run on the CPU while the GPU starts (same bytes).
        long mixes = Count(Stage.Mix), gpu = Interlocked.Read(ref _cudaBatches);
        sb.AppendLine(gpu == 0
            ? string.Create(CultureInfo.InvariantCulture, $"mix: all {mixes} batches on the CPU{(GpuLeftClosed ? " (--device auto opens a GPU only for runs with over ~1 s of CPU mixing; --device cuda to use one anyway)" : "")}")
            : string.Create(CultureInfo.InvariantCulture, $"mix: {gpu} of {mixes} batches on the GPU{(mixes > gpu ? $", {mixes - gpu} on the CPU while it started" : "")}{FloatKernelNote()}"));
        if (_pixelBuffers.Count + _pngBuffers.Count > 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"batch buffers: {_pixelBuffers.Count} × {_pixelBuffers.Bytes / 1048576.0:F1} MiB pixels, {_pngBuffers.Count} × {_pngBuffers.Bytes / 1048576.0:F1} MiB PNGs (the most in use at once, reused)");
        }
        if (ValidationReused > 0 && ValidationFromCache)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"validation: verdicts on {ValidationReused} input(s) from the cache, their files unchanged since an earlier run (size, times, inode, device)");
        }
        else if (ValidationReused > 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"validation: the resumed run's verdicts on {ValidationReused} input(s), from {ValidationRecord.FileName} (each input's SHA-256 checked as it is decoded)");
        }
        if (InputFilesHashed is { } h)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"input files: {h.Files} hashed for the manifest ({h.Bytes / 1048576.0:F0} MiB{(h.FromCache > 0 ? $", {h.FromCache} unchanged since an earlier run, from the cache" : "")}) in {h.Seconds:F3} s beside the run; the finished run waited {h.WaitedSeconds:F3} s for them");
        }
        if (FormatPhases() is { } phases)
        {
            sb.AppendLine(phases);
        }
        Stage[] work = [Stage.Validate, Stage.Decode, Stage.Mix, Stage.Encode, Stage.Write];
        double busy = work.Sum(s => Total(s).TotalSeconds);
        if (busy > 0)
        {
            var top = work.MaxBy(s => Total(s).TotalSeconds);
            var writerBound = empty < 0.1 * w && full > empty;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"bound by: {(writerBound ? "the writer (Parquet/disk)" : "the workers")} — {top} is {100 * Total(top).TotalSeconds / busy:F0}% of the stages' thread time");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The run's wall clock in phases: listing; the validation pass; the first batch (from the end of validation until
    /// the writer has the first finished batch: planning, the output directory and first manifest, then that batch's
    /// decode, mix and encode, nothing being written before it); the other batches; and the finish (closing the last
    /// shard with its fsync, the dataset files, the manifest). Null when a phase was not reached (a resumed run with
    /// nothing left to write).
    /// </summary>
    private string? FormatPhases()
    {
        var m = _marks;
        if (Array.IndexOf(m, 0L) >= 0)
        {
            return null;
        }
        double S(Phase from, Phase to) => Stopwatch.GetElapsedTime(m[(int)from], m[(int)to]).TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"phases: listing {S(Phase.Start, Phase.Listed):F3} s, validation {S(Phase.Listed, Phase.Validated):F3} s, first batch {S(Phase.Validated, Phase.FirstBatchReady):F3} s, other batches {S(Phase.FirstBatchReady, Phase.BatchesWritten):F3} s, finish {S(Phase.BatchesWritten, Phase.Done):F3} s");
    }
}
