using System.Globalization;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Cli;

/// <summary>Draws one refreshing progress line on a terminal's stderr (rows, rows/s, ETA) at most 4 times a second.</summary>
internal sealed class ProgressReporter(TextWriter stderr, bool enabled) : IProgress<GenerationProgress>, IDisposable
{
    private readonly Lock _gate = new();
    private TimeSpan _last = TimeSpan.MinValue;
    private bool _drawn;

    public void Report(GenerationProgress value)
    {
        if (!enabled)
        {
            return;
        }
        lock (_gate)
        {
            var done = value.RowsDone == value.RowsTotal;
            if (!done && value.Elapsed - _last < TimeSpan.FromMilliseconds(250))
            {
                return;
            }
            _last = value.Elapsed;
            var rate = value.Elapsed.TotalSeconds > 0 ? value.RowsDone / value.Elapsed.TotalSeconds : 0;
            var eta = rate > 0 ? TimeSpan.FromSeconds((value.RowsTotal - value.RowsDone) / rate) : TimeSpan.Zero;
            stderr.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{value.RowsDone}/{value.RowsTotal} rows ({100.0 * value.RowsDone / Math.Max(1, value.RowsTotal):F0}%), shard {value.ShardsDone}/{value.ShardsTotal}, {rate:F0} rows/s, ETA {eta:hh\\:mm\\:ss}   "));
            _drawn = true;
        }
    }

    public void Dispose()
    {
        if (_drawn)
        {
            stderr.WriteLine();
        }
    }
}
