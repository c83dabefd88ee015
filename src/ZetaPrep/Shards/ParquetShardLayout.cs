using System.Text.Encodings.Web;
using System.Text.Json;
using Parquet.Schema;

namespace ZetaPrep.Shards;

/// <summary>The Parquet schema of a shard and its HuggingFace <c>datasets</c> feature metadata (FACTS.md §3).</summary>
internal sealed class ParquetShardLayout
{
    internal const string HuggingFaceKey = "huggingface";
    internal const string GenerationKey = "zetaprep";

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private ParquetShardLayout()
    {
        // Every column OPTIONAL: datasets keeps a declared feature only if the Arrow field matches exactly, nullability included.
        ImageBytes = new DataField<byte[]>("bytes", true);
        ImagePath = new DataField<string>("path", true);
        // The (name, Field) form: element named "element" and OPTIONAL; ListField(name, typeof(float)) would make it REQUIRED.
        Label = new DataField<float?>(ListField.ElementName);
        Dominant = new DataField<long?>("dominant");
        Sources = new DataField<string>(ListField.ElementName, true);
        Weights = new DataField<float?>(ListField.ElementName);
        Gamma = new DataField<float?>("gamma");
        Original = new DataField<bool?>("original");
        Method = new DataField<string>("method", true);
        Lam = new DataField<float?>("lam");
        Schema = new ParquetSchema(
            new StructField("image", ImageBytes, ImagePath),
            new ListField("label", Label),
            Dominant,
            new ListField("sources", Sources),
            new ListField("weights", Weights),
            Gamma,
            Original,
            Method,
            Lam);
    }

    public ParquetSchema Schema { get; }

    public DataField ImageBytes { get; }

    public DataField ImagePath { get; }

    public DataField Label { get; }

    public DataField Dominant { get; }

    public DataField Sources { get; }

    public DataField Weights { get; }

    public DataField Gamma { get; }

    /// <summary>True for an unmixed resized original written by --keep-originals; false for a ζ-mixup row.</summary>
    public DataField Original { get; }

    /// <summary>zeta, mixup, cutmix, cutmix+zeta or none (null when a writer did not record it).</summary>
    public DataField Method { get; }

    /// <summary>Mixup λ or CutMix's area-corrected λ; null for ζ rows and originals.</summary>
    public DataField Lam { get; }

    /// <summary>A fresh schema (fields attach to one schema instance, so each writer/reader gets its own).</summary>
    public static ParquetShardLayout Create() => new();

    /// <summary>
    /// The <c>huggingface</c> metadata value: image, float32 Sequences, ClassLabel (int64), a float32 Value and a bool
    /// Value; with <paramref name="folderTable"/>, the folder format's label table's (file_name and sha256 strings in
    /// place of the image), so `load_dataset("parquet", data_files="labels.parquet")` gives `dominant` as a ClassLabel too.
    /// </summary>
    public static string HuggingFaceJson(IReadOnlyList<string> classNames, bool folderTable = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("info");
            json.WriteStartObject("features");

            if (folderTable)
            {
                WriteValue(json, "file_name", "string");
            }
            else
            {
                json.WriteStartObject("image");
                json.WriteString("_type", "Image");
                json.WriteEndObject();
            }

            WriteSequence(json, "label", "float32");

            json.WriteStartObject("dominant");
            json.WriteStartArray("names");
            foreach (string name in classNames)
            {
                json.WriteStringValue(name);
            }

            json.WriteEndArray();
            json.WriteString("_type", "ClassLabel");
            json.WriteEndObject();

            WriteSequence(json, "sources", "string");
            WriteSequence(json, "weights", "float32");

            WriteValue(json, "gamma", "float32");
            WriteValue(json, "original", "bool");
            WriteValue(json, "method", "string");
            WriteValue(json, "lam", "float32");
            if (folderTable)
            {
                WriteValue(json, "sha256", "string");
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Class names from a <c>huggingface</c> metadata value, or null when it has no ClassLabel <c>dominant</c> feature.</summary>
    public static IReadOnlyList<string>? ClassNamesFrom(string huggingFaceJson)
    {
        using var document = JsonDocument.Parse(huggingFaceJson);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("info", out JsonElement info)
            || info.ValueKind != JsonValueKind.Object
            || !info.TryGetProperty("features", out JsonElement features)
            || features.ValueKind != JsonValueKind.Object
            || !features.TryGetProperty("dominant", out JsonElement dominant)
            || dominant.ValueKind != JsonValueKind.Object
            || !dominant.TryGetProperty("names", out JsonElement names)
            || names.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var result = new List<string>(names.GetArrayLength());
        foreach (JsonElement name in names.EnumerateArray())
        {
            if (name.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            result.Add(name.GetString()!);
        }

        return result;
    }

    // "Sequence" rather than "List": Sequence loads in datasets 3.x and 4.x, List only in 4.x.
    private static void WriteSequence(Utf8JsonWriter json, string name, string dtype)
    {
        json.WriteStartObject(name);
        WriteValue(json, "feature", dtype);
        json.WriteString("_type", "Sequence");
        json.WriteEndObject();
    }

    /// <summary>A scalar feature: <c>"name": {"dtype": dtype, "_type": "Value"}</c>.</summary>
    private static void WriteValue(Utf8JsonWriter json, string name, string dtype)
    {
        json.WriteStartObject(name);
        json.WriteString("dtype", dtype);
        json.WriteString("_type", "Value");
        json.WriteEndObject();
    }
}
