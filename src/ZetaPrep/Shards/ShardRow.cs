namespace ZetaPrep.Shards;

/// <summary>
/// One output sample: PNG bytes, its file name, soft label over K classes, dominant class, mixed originals (dominant
/// first), their weights, γ, whether it is an unmixed original, the method that made it (zeta, mixup, cutmix,
/// cutmix+zeta, none; null when not recorded) and mixup's λ or CutMix's area-corrected λ (null otherwise).
/// </summary>
/// <remarks>
/// <see cref="ImageBytes"/> may be a slice of a buffer its producer reuses: a shard writer reads it only during
/// <see cref="IShardWriter.WriteRowGroupAsync"/> (the generator hands a batch's PNGs in one pooled buffer, so that
/// images waiting for the writer are not promoted through the GC generations). Rows read from shards own their bytes.
/// </remarks>
public sealed record ShardRow(
    ReadOnlyMemory<byte> ImageBytes,
    string ImagePath,
    float[] Label,
    long Dominant,
    string[] Sources,
    float[] Weights,
    float Gamma,
    bool Original = false,
    string? Method = null,
    float? Lam = null);
