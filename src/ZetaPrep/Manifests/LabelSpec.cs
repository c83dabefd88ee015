namespace ZetaPrep.Manifests;

/// <summary>How to read a label CSV: where it is, its id column and the label style.</summary>
public sealed record LabelSpec
{
    /// <summary>A .csv file, or a .zip holding the CSV at <see cref="Entry"/>.</summary>
    public required string File { get; init; }

    public string? Entry { get; init; }

    /// <summary>False: no header row; column 0 is the id and column 1 the label.</summary>
    public bool Header { get; init; } = true;

    /// <summary>The id column (header files); ids may carry an image extension, which is stripped.</summary>
    public string? IdColumn { get; init; }

    public LabelStyle Style { get; init; }

    /// <summary><see cref="LabelStyle.Class"/>: the column holding the class name or index.</summary>
    public string? LabelColumn { get; init; }

    /// <summary><see cref="LabelStyle.OneHot"/>: the class of a row with no column set (ISIC 2017's nevus).</summary>
    public string? RestClass { get; init; }

    /// <summary><see cref="LabelStyle.OneHot"/>: rows may be probabilities summing to 1 instead of exactly one 1.</summary>
    public bool Soft { get; init; }
}
