using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ZetaPrep.Shards;

/// <summary>How one row becomes a WebDataset sample: <c>KEY.png</c>, <c>KEY.json</c> and <c>KEY.cls</c>, key = image name without extension.</summary>
internal static class WebDatasetSample
{
    public static readonly string[] Extensions = ["png", "json", "cls"];

    /// <summary>The sample key of a row: its image name up to the first dot (webdataset splits keys at the first dot).</summary>
    public static string KeyOf(ShardRow row)
    {
        var name = row.ImagePath;
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var key = dot < 0 ? name : name[..dot];
        if (key.Length == 0 || key.Contains('/', StringComparison.Ordinal) || key.StartsWith("__", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Row image name '{name}' gives no usable WebDataset key.", nameof(row));
        }
        return key;
    }

    /// <summary>
    /// Deterministic compact JSON: label, dominant, sources, weights, gamma, original (floats in shortest round-trip
    /// form), written to <paramref name="json"/> (default options; the caller flushes it). A writer reset for each row
    /// allocates nothing: a writer and MemoryStream per row cost 5.9 KB for ~350 bytes of JSON.
    /// </summary>
    public static void WriteJson(Utf8JsonWriter json, ShardRow row)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(row);
        json.WriteStartObject();
        WriteNumbers(json, "label", row.Label);
        json.WriteNumber("dominant", row.Dominant);
        json.WriteStartArray("sources");
        foreach (var s in row.Sources)
        {
            json.WriteStringValue(s);
        }
        json.WriteEndArray();
        WriteNumbers(json, "weights", row.Weights);
        json.WriteNumber("gamma", row.Gamma);
        json.WriteBoolean("original", row.Original);
        if (row.Method is { } method)
        {
            json.WriteString("method", method);
        }
        if (row.Lam is { } lam)
        {
            json.WriteNumber("lam", lam);
        }
        json.WriteEndObject();
    }

    private static void WriteNumbers(Utf8JsonWriter json, string name, float[] values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteNumberValue(v);
        }
        json.WriteEndArray();
    }

    public static byte[] Cls(ShardRow row) => Encoding.ASCII.GetBytes(row.Dominant.ToString(CultureInfo.InvariantCulture));

    /// <summary>Rebuilds a row from its members; a missing member or malformed JSON throws <see cref="InvalidDataException"/>.</summary>
    public static ShardRow Parse(string key, IReadOnlyDictionary<string, byte[]> members)
    {
        if (!members.TryGetValue("png", out var png) || !members.TryGetValue("json", out var jsonBytes))
        {
            throw new InvalidDataException($"sample '{key}' lacks {key}.png or {key}.json");
        }
        try
        {
            using var doc = JsonDocument.Parse(jsonBytes);
            var root = doc.RootElement;
            var row = new ShardRow(
                png,
                key + ".png",
                root.GetProperty("label").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
                root.GetProperty("dominant").GetInt64(),
                root.GetProperty("sources").EnumerateArray().Select(e => e.GetString() ?? "").ToArray(),
                root.GetProperty("weights").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
                root.GetProperty("gamma").GetSingle(),
                root.TryGetProperty("original", out var original) && original.GetBoolean(),
                root.TryGetProperty("method", out var method) ? method.GetString() : null,
                root.TryGetProperty("lam", out var lam) ? lam.GetSingle() : null);
            if (members.TryGetValue("cls", out var cls) && Encoding.ASCII.GetString(cls) != row.Dominant.ToString(CultureInfo.InvariantCulture))
            {
                throw new InvalidDataException($"sample '{key}': {key}.cls disagrees with dominant in {key}.json");
            }
            return row;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"sample '{key}': malformed {key}.json ({e.Message})", e);
        }
    }
}
