using System.Text.Json.Serialization;

namespace ZetaPrep.Manifests;

/// <summary>How to read a label CSV: where it is, its id column and the label style.</summary>
public sealed record LabelSpec
{
    /// <summary>A .csv file, or a .zip holding the CSV at <see cref="Entry"/>.</summary>
    public required string File { get; init; }

    public string? Entry { get; init; }

    /// <summary>False: no header row; column 0 is the id and column 1 the label. True when a preset leaves it out.</summary>
    [JsonIgnore]
    public bool Header { get => HeaderAsWritten ?? true; init => HeaderAsWritten = value; }

    /// <summary>
    /// "header" as the preset writes it, null when absent. A property of its own because the compile-time JSON metadata
    /// sets every init-only property it does not find to its type's default, which would turn a left-out header into
    /// false (dotnet/runtime#84484); read <see cref="Header"/>.
    /// </summary>
    [JsonPropertyName("header")]
    public bool? HeaderAsWritten { get; init; }

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
