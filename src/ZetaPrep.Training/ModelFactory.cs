using TorchSharp;
using static TorchSharp.torch;

namespace ZetaPrep.Training;

/// <summary>Builds the TorchVision classifier for an architecture and loads TorchSharp weights into it.</summary>
internal static class ModelFactory
{
    public static nn.Module<Tensor, Tensor> Create(TrainArchitecture architecture, int classes) => architecture switch
    {
        TrainArchitecture.ResNet18 => torchvision.models.resnet18(num_classes: classes),
        TrainArchitecture.ResNet50 => torchvision.models.resnet50(num_classes: classes),
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, null),
    };

    /// <summary>
    /// Loads pretrained weights; the final layer (<c>fc.*</c>) is skipped, because its size is the pretraining
    /// task's class count — training starts that layer fresh. Anything else that does not fit is an error.
    /// </summary>
    public static void LoadPretrained(nn.Module model, string path)
    {
        Checkpoint.Load(model, path, "--pretrained", strict: false, skip: ["fc.weight", "fc.bias"]);
    }
}
