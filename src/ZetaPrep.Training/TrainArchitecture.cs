namespace ZetaPrep.Training;

/// <summary>The TorchVision classifier trained by <c>zetaprep train</c>.</summary>
public enum TrainArchitecture
{
    ResNet18,
    ResNet50,
}
