namespace ZetaPrep.Shards;

/// <summary>
/// One output sample: PNG bytes, its file name, soft label over K classes, dominant class, mixed originals (dominant
/// first), their weights, γ, whether it is an unmixed original, the method that made it (zeta, mixup, cutmix,
/// cutmix+zeta, none; null when not recorded) and mixup's λ or CutMix's area-corrected λ (null otherwise).
/// </summary>
public sealed record ShardRow(
    byte[] ImageBytes,
    string ImagePath,
    float[] Label,
    long Dominant,
    string[] Sources,
    float[] Weights,
    float Gamma,
    bool Original = false,
    string? Method = null,
    float? Lam = null);
