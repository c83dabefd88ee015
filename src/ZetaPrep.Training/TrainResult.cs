namespace ZetaPrep.Training;

/// <summary>What a training run produced: every epoch's metrics (resumed ones included), the best epoch and the files.</summary>
public sealed record TrainResult(IReadOnlyList<EpochMetrics> Epochs, int BestEpoch, double BestF1Micro, string BestCheckpoint, string OutputDirectory, string Device);
