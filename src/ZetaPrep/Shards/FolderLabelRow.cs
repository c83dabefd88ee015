namespace ZetaPrep.Shards;

/// <summary>One row of <c>labels.parquet</c> (and of a folder shard's label part): the image file (relative to the output directory), its labels and the SHA-256 of the PNG.</summary>
internal sealed record FolderLabelRow(
    string FileName,
    float[] Label,
    long Dominant,
    string[] Sources,
    float[] Weights,
    float Gamma,
    bool Original,
    string? Method,
    float? Lam,
    string Sha256);
