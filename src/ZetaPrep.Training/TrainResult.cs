namespace ZetaPrep.Training;

/// <summary>What a training run produced: every epoch's metrics (resumed ones included), the best epoch and the files.</summary>
public sealed record TrainResult(IReadOnlyList<EpochMetrics> Epochs, int BestEpoch, double BestF1Micro, string BestCheckpoint, string OutputDirectory, string Device)
{
    /// <summary>The epochs this invocation trained: 0 for a --resume of a run that had already trained all --epochs.</summary>
    public int EpochsTrainedNow { get; init; }
}
