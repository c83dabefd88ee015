using static TorchSharp.torch;

namespace ZetaPrep.Training;

/// <summary>NHWC RGB24 bytes → normalised NCHW float tensors, as torchvision's ToTensor + Normalize would give.</summary>
/// <remarks>ImageNet mean/std (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225): the statistics TorchVision's pretrained
/// ResNets expect, used for scratch training too so that --pretrained changes nothing else.</remarks>
internal static class ImageTensors
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    public static Tensor ToInput(byte[] pixels, int count, int size, Device device)
    {
        using var scope = NewDisposeScope();
        var raw = tensor(pixels, [count, size, size, 3], dtype: ScalarType.Byte).to(device);
        var x = raw.permute(0, 3, 1, 2).to_type(ScalarType.Float32).div_(255f);
        var mean = tensor(Mean, [1, 3, 1, 1]).to(device);
        var std = tensor(Std, [1, 3, 1, 1]).to(device);
        return x.sub_(mean).div_(std).contiguous().MoveToOuterDisposeScope();
    }
}
