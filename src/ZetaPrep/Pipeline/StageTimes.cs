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

        /// <summary>The producer waiting for room in the bounded batch queue (the writer is behind).</summary>
        QueueFull,
    }

    private readonly long[] _ticks = new long[Enum.GetValues<Stage>().Length];
    private readonly long[] _counts = new long[Enum.GetValues<Stage>().Length];

    public void Add(Stage stage, long stopwatchTicks, long count = 1)
    {
        Interlocked.Add(ref _ticks[(int)stage], stopwatchTicks);
        Interlocked.Add(ref _counts[(int)stage], count);
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

        // Queue occupancy: an empty queue (writer waiting) means the workers are the bottleneck, a full one the writer.
        double w = Math.Max(wall.TotalSeconds, 1e-9);
        double empty = Total(Stage.WaitForBatch).TotalSeconds, full = Total(Stage.QueueFull).TotalSeconds;
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"queue: empty {100 * empty / w:F0}% of wall (writer waiting for batches), full {100 * full / w:F0}% (workers waiting for the writer)");
        Stage[] work = [Stage.Validate, Stage.Decode, Stage.Mix, Stage.Encode, Stage.Write];
        double busy = work.Sum(s => Total(s).TotalSeconds);
        if (busy > 0)
        {
            var top = work.MaxBy(s => Total(s).TotalSeconds);
            var bound = full > empty ? "write (I/O)" : top.ToString().ToLowerInvariant();
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"bound by: {bound} — {top} is {100 * Total(top).TotalSeconds / busy:F0}% of the stages' thread time");
        }
        return sb.ToString();
    }
}
