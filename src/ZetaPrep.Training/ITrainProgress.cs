namespace ZetaPrep.Training;

/// <summary>Receives training progress (the CLI draws it on stderr); called on the training thread.</summary>
public interface ITrainProgress
{
    /// <summary>After each step: epoch (1-based), step within the epoch, steps per epoch, running mean loss, images/s.</summary>
    void Step(int epoch, int step, int stepsPerEpoch, double loss, double imagesPerSecond);

    /// <summary>After each epoch's validation.</summary>
    void Epoch(EpochMetrics metrics, int epochs);
}
