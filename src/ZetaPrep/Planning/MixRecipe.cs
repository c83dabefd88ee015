using ZetaPrep.Mixing;

namespace ZetaPrep.Planning;

/// <summary>
/// One output: the batch positions its label mixes (dominant = largest weight first, then by weight), their weights in
/// the same order, and γ. Baselines add how the pixels are made when that differs from the label weights.
/// </summary>
public sealed record MixRecipe(int[] Members, double[] Weights, double Gamma)
{
    public int Dominant => Members[0];

    public MixMethod Method { get; init; } = MixMethod.Zeta;

    /// <summary>Mixup λ (weight of input k) or CutMix's area-corrected λ (unpasted fraction of image k); null otherwise.</summary>
    public double? Lambda { get; init; }

    /// <summary>The W row of out = W @ X when the pixels are not the label mix (CutMix: the base image or its ζ mix).</summary>
    public int[]? PixelMembers { get; init; }

    /// <summary>Weights of <see cref="PixelMembers"/>, same order.</summary>
    public double[]? PixelWeights { get; init; }

    /// <summary>The CutMix box pasted after the W @ X mix; null for methods without one.</summary>
    public CutMixBox? Box { get; init; }
}
