using TorchSharp;
using static TorchSharp.torch;

namespace ZetaPrep.Training.Tests;

public sealed class SoftCrossEntropyTests
{
    [Fact]
    public void SoftLabel_MatchesHandComputedValue()
    {
        // Row 1: z = (0, ln 3) → softmax (1/4, 3/4); y = (0.5, 0.5) → −(0.5 ln ¼ + 0.5 ln ¾).
        // Row 2: z = (0, 0) → (½, ½); y = (1, 0) → ln 2.
        using var logits = tensor(new float[] { 0, MathF.Log(3), 0, 0 }, [2, 2]);
        using var target = tensor(new float[] { 0.5f, 0.5f, 1, 0 }, [2, 2]);
        var expected = (-(0.5 * Math.Log(0.25) + 0.5 * Math.Log(0.75)) + Math.Log(2)) / 2;
        using var loss = SoftCrossEntropy.Compute(logits, target);
        Assert.Equal(expected, loss.item<float>(), 1e-5);
    }

    [Fact]
    public void OneHot_EqualsTorchCrossEntropyWithClassIndices()
    {
        // A generator of its own: torch's default one seeds the weights of training tests running beside it.
        using var generator = new torch.Generator(3);
        using var logits = torch.randn(16, 7, generator: generator) * 3;
        using var classes = torch.randint(0, 7, [16], dtype: ScalarType.Int64, generator: generator);
        using var oneHot = nn.functional.one_hot(classes, 7).to_type(ScalarType.Float32);
        using var ours = SoftCrossEntropy.Compute(logits, oneHot);
        using var theirs = nn.functional.cross_entropy(logits, classes);
        // Within float32 rounding (an absolute tolerance: rounding both to 5 places failed once, 3.63595486 vs 3.6359551).
        Assert.Equal(theirs.item<float>(), ours.item<float>(), 1e-5);
    }
}
