namespace ZetaPrep.Mixing;

/// <summary>How an output row was made; written per row (column <c>method</c>) so a consumer can filter baselines.</summary>
public enum MixMethod
{
    /// <summary>ζ-mixup of N batch samples (the default).</summary>
    Zeta,

    /// <summary>Mixup (Zhang et al. 2018): input k and one partner, weights (λ, 1−λ), λ ~ Beta(α, α).</summary>
    Mixup,

    /// <summary>CutMix (Yun et al. 2019): a box of the partner pasted into input k; label by the pasted area.</summary>
    CutMix,

    /// <summary>CutMix on top of ζ-mixed outputs (the paper's Table 1): a box of another ζ output pasted into output k.</summary>
    CutMixZeta,

    /// <summary>The resized original, unmixed (ERM baseline, --keep-originals rows and --prob misses).</summary>
    None,
}
