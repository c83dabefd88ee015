using System.Buffers;
using System.Text;
using System.Text.Json;
using ZetaPrep.Manifests;

namespace ZetaPrep.Shards;

/// <summary>
/// The generation metadata every Parquet shard records in its footer (key <see cref="ParquetShardLayout.GenerationKey"/>):
/// only the inputs that decide the bytes (no thread count, paths or clock, so reruns match). One table for the run that
/// writes it and for `verify`, which holds each value against the same value in manifest.json.
/// </summary>
/// <remarks>
/// Written with <see cref="Utf8JsonWriter"/> (the bytes JsonSerializer gives for the same dictionary, default escaping
/// included) rather than serializing a Dictionary of objects, whose reflection-built converters cost JIT time in every
/// process.
/// </remarks>
public static class GenerationMetadata
{
    /// <summary>
    /// One key of the metadata, in the order written: the manifest.json path of the same value (null where verify
    /// compares it on its own: the class names) and what writes the value.
    /// </summary>
    public readonly record struct Field(string Key, string? ManifestPath, Action<Utf8JsonWriter> WriteValue)
    {
        /// <summary>The value alone, as the metadata's JSON writes it.</summary>
        public string ValueJson()
        {
            var buffer = new ArrayBufferWriter<byte>(64);
            using (var json = new Utf8JsonWriter(buffer))
            {
                WriteValue(json);
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    /// <summary>The fields of a run with these recorded options, classes and inputs.</summary>
    public static Field[] Fields(string toolVersion, GenerationOptionsRecord o, IReadOnlyList<string> classes, int inputCount, string fingerprint) =>
    [
        new("tool", "tool.version", w => w.WriteStringValue("zetaprep " + toolVersion)),
        new("method", "options.method", w => w.WriteStringValue(o.Method)),
        new("alpha", "options.alpha", w =>
        {
            if (o.Alpha is { } alpha)
            {
                w.WriteNumberValue(alpha);
            }
            else
            {
                w.WriteNullValue();
            }
        }),
        new("label_smoothing", "options.label_smoothing", w => w.WriteNumberValue(o.LabelSmoothing)),
        new("prob", "options.prob", w => w.WriteNumberValue(o.Prob)),
        new("switch_prob", "options.switch_prob", w => w.WriteNumberValue(o.SwitchProb)),
        new("n", "options.n", w => w.WriteStringValue(o.N)),
        new("gamma", "options.gamma", w => w.WriteStringValue(o.Gamma)),
        new("batch_size", "options.batch_size", w => w.WriteNumberValue(o.BatchSize)),
        new("passes", "options.passes", w => w.WriteNumberValue(o.Passes)),
        new("seed", "options.seed", w => w.WriteNumberValue(o.Seed)),
        new("size", "options.size", w => w.WriteNumberValue(o.Size)),
        new("resize", "options.resize", w => w.WriteStringValue(o.Resize)),
        new("codec", "options.codec", w => w.WriteStringValue(o.Codec)),
        new("png_level", "options.png_level", w => w.WriteNumberValue(o.PngLevel)),
        new("classes", null, w =>
        {
            w.WriteStartArray();
            foreach (var name in classes)
            {
                w.WriteStringValue(name);
            }
            w.WriteEndArray();
        }),
        new("input_count", "input.count", w => w.WriteNumberValue(inputCount)),
        new("input_fingerprint", "input.fingerprint", w => w.WriteStringValue(fingerprint)),
    ];

    /// <summary>The fields a manifest's run recorded in its shards.</summary>
    public static Field[] Fields(GenerationManifest m) => Fields(m.Tool.Version, m.Options, m.Classes, m.Input.Count, m.Input.Fingerprint);

    /// <summary>The metadata's JSON object, as a shard's footer records it.</summary>
    public static string Json(IEnumerable<Field> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var field in fields)
            {
                json.WritePropertyName(field.Key);
                field.WriteValue(json);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
