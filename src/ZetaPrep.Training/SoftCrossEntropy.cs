using static TorchSharp.torch;

namespace ZetaPrep.Training;

/// <summary>Cross-entropy against a soft label, −Σ_k y_k log softmax(z)_k, mean over the batch (the authors' ζ-mixup loss, FACTS.md §2).</summary>
/// <remarks>With one-hot targets this is exactly the usual cross-entropy with class indices.</remarks>
public static class SoftCrossEntropy
{
    /// <summary>Logits [B, K] and target distributions [B, K] → a scalar loss.</summary>
    public static Tensor Compute(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        var loss = -(target * nn.functional.log_softmax(logits, 1)).sum(1).mean();
        return loss.MoveToOuterDisposeScope();
    }
}
