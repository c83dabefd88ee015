using TorchSharp;
using static TorchSharp.torch;

namespace ZetaPrep.Training;

/// <summary>Builds the TorchVision classifier for an architecture and loads TorchSharp weights into it.</summary>
internal static class ModelFactory
{
    // torch's default generator, which draws the initial weights, is process-wide.
    private static readonly Lock DefaultGenerator = new();

    /// <summary>
    /// The model, with initial weights drawn from torch's default generator: seeded with <paramref name="seed"/> first where
    /// given. Seeding and drawing are one step under a lock, so two runs in one process (compare's, a library user's, the
    /// tests') each start from their own seed's weights instead of drawing from each other's.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(TrainArchitecture architecture, int classes, ulong? seed = null)
    {
        lock (DefaultGenerator)
        {
            if (seed is { } s)
            {
                torch.manual_seed(unchecked((long)s));
            }
            return architecture switch
            {
                TrainArchitecture.ResNet18 => torchvision.models.resnet18(num_classes: classes),
                TrainArchitecture.ResNet50 => torchvision.models.resnet50(num_classes: classes),
                _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, null),
            };
        }
    }

    /// <summary>
    /// Loads pretrained weights; the final layer (<c>fc.*</c>) is skipped, because its size is the pretraining
    /// task's class count — training starts that layer fresh. Anything else that does not fit is an error.
    /// </summary>
    public static void LoadPretrained(nn.Module model, string path)
    {
        Checkpoint.Load(model, path, "--pretrained", strict: false, skip: ["fc.weight", "fc.bias"]);
    }
}
