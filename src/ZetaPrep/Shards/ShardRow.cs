namespace ZetaPrep.Shards;

/// <summary>One output sample: PNG bytes, its file name, soft label over K classes, dominant class, mixed originals (dominant first), their weights, γ, and whether it is an unmixed original (--keep-originals).</summary>
public sealed record ShardRow(
    byte[] ImageBytes,
    string ImagePath,
    float[] Label,
    long Dominant,
    string[] Sources,
    float[] Weights,
    float Gamma,
    bool Original = false);
