using System.Text.Json.Serialization;

namespace ZetaPrep.Shards;

/// <summary>One row of <c>labels.parquet</c> (and of a folder shard's label part): the image file (relative to the output directory), its labels and the SHA-256 of the PNG.</summary>
/// <remarks>A class with nullable members so that Parquet.Net writes OPTIONAL columns, as HuggingFace expects (FACTS.md §3).</remarks>
internal sealed class FolderLabelRow
{
    [JsonPropertyName("file_name")]
    public string? FileName { get; set; }

    [JsonPropertyName("label")]
    public List<float?>? Label { get; set; }

    [JsonPropertyName("dominant")]
    public long? Dominant { get; set; }

    [JsonPropertyName("sources")]
    public List<string>? Sources { get; set; }

    [JsonPropertyName("weights")]
    public List<float?>? Weights { get; set; }

    [JsonPropertyName("gamma")]
    public float? Gamma { get; set; }

    [JsonPropertyName("original")]
    public bool? Original { get; set; }

    [JsonPropertyName("method")]
    public string? Method { get; set; }

    [JsonPropertyName("lam")]
    public float? Lam { get; set; }

    [JsonPropertyName("sha256")]
    public string? Sha256 { get; set; }
}
