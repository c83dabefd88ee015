using System.Globalization;
using ZetaPrep.Training;

namespace ZetaPrep.Cli;

/// <summary>Training progress on stderr (one rewritten line per step, a line per epoch) when stderr is a terminal.</summary>
internal sealed class TrainProgressReporter : ITrainProgress
{
    private readonly TextWriter _stderr;
    private readonly bool _enabled;
    private readonly DateTime _started = DateTime.UtcNow;
    private int _epochsDone;
    private int _firstEpoch = -1;
    private bool _stepLineOpen;

    public TrainProgressReporter(TextWriter stderr, bool enabled)
    {
        _stderr = stderr;
        _enabled = enabled;
    }

    public void Step(int epoch, int step, int stepsPerEpoch, double loss, double imagesPerSecond)
    {
        if (_firstEpoch < 0)
        {
            _firstEpoch = epoch;
        }

        if (!_enabled)
        {
            return;
        }

        _stderr.Write(string.Create(CultureInfo.InvariantCulture,
            $"\repoch {epoch} step {step}/{stepsPerEpoch} loss {loss:F4} {imagesPerSecond:F1} img/s   "));
        _stepLineOpen = true;
    }

    public void Epoch(EpochMetrics metrics, int epochs)
    {
        _epochsDone++;
        if (!_enabled)
        {
            return;
        }

        _stepLineOpen = false;
        var perEpoch = (DateTime.UtcNow - _started).TotalSeconds / _epochsDone;
        var eta = TimeSpan.FromSeconds(perEpoch * (epochs - metrics.Epoch));
        _stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\repoch {metrics.Epoch}/{epochs}: train loss {metrics.TrainLoss:F4}, val loss {metrics.ValLoss:F4}, val acc {metrics.ValAccuracy:F4}, macro-F1 {metrics.ValF1Macro:F4}, {metrics.ImagesPerS:F1} img/s, lr {metrics.Lr:G3}, ETA {eta:hh\\:mm\\:ss}"));
    }

    /// <summary>Ends a step line still open (the run stopped mid-epoch), so an error message starts on a line of its own.</summary>
    public void Finish()
    {
        if (_enabled)
        {
            if (_stepLineOpen)
            {
                _stderr.WriteLine();
                _stepLineOpen = false;
            }

            _stderr.Flush();
        }
    }
}
