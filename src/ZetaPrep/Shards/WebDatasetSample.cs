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

    /// <summary>Rebuilds a row from its members; a missing image or JSON, malformed JSON or a .cls that disagrees with it throws <see cref="InvalidDataException"/>.</summary>
    public static ShardRow Parse(string key, IReadOnlyDictionary<string, byte[]> members)
    {
        var row = ParseRow(key, members);
        if (ClsProblem(key, members, row) is { } problem)
        {
            throw new InvalidDataException(problem);
        }
        return row;
    }

    /// <summary>Rebuilds a row from <c>KEY.png</c> and <c>KEY.json</c> alone; a missing member or malformed JSON throws <see cref="InvalidDataException"/>.</summary>
    public static ShardRow ParseRow(string key, IReadOnlyDictionary<string, byte[]> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (!members.TryGetValue("png", out var png) || !members.TryGetValue("json", out var jsonBytes))
        {
            throw new InvalidDataException($"sample '{key}' lacks {key}.png or {key}.json");
        }
        try
        {
            using var doc = JsonDocument.Parse(jsonBytes);
            var root = doc.RootElement;
            return new ShardRow(
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
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"sample '{key}': malformed {key}.json ({e.Message})", e);
        }
    }

    /// <summary>Why the sample's <c>KEY.cls</c> disagrees with the dominant class in its JSON, or null (agrees, or absent: <see cref="LayoutProblem"/> says that).</summary>
    public static string? ClsProblem(string key, IReadOnlyDictionary<string, byte[]> members, ShardRow row)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(row);
        return members.TryGetValue("cls", out var cls) && Encoding.ASCII.GetString(cls) != row.Dominant.ToString(CultureInfo.InvariantCulture)
            ? $"sample '{key}': {key}.cls disagrees with dominant in {key}.json"
            : null;
    }

    /// <summary>
    /// What is wrong with a sample's member names (in tar order) against the format, exactly <c>KEY.png</c>,
    /// <c>KEY.json</c>, <c>KEY.cls</c> in that order, or null when they are that: a loader asking for "cls"
    /// (<c>to_tuple("png", "cls")</c>) fails on a sample without it, and an extra member is a field some samples have and
    /// others lack.
    /// </summary>
    public static string? LayoutProblem(string key, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var suffixes = names.Select(WebDatasetTarReader.SuffixOf).ToList();
        if (suffixes.SequenceEqual(Extensions, StringComparer.Ordinal))
        {
            return null;
        }
        var wrong = new List<string>();
        wrong.AddRange(Extensions.Where(e => !suffixes.Contains(e, StringComparer.Ordinal)).Select(e => $"lacks {key}.{e}"));
        wrong.AddRange(Extensions.Where(e => suffixes.Count(s => s == e) > 1).Select(e => $"has two {key}.{e} members"));
        wrong.AddRange(names.Where((_, i) => !Extensions.Contains(suffixes[i], StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).Select(n => $"has an extra member {n}"));
        if (wrong.Count == 0)
        {
            wrong.Add($"has its members in the order {string.Join(", ", names)}");
        }
        var what = wrong.Count == 1 ? wrong[0] : string.Join(", ", wrong.Take(wrong.Count - 1)) + " and " + wrong[^1];
        return $"sample '{key}' {what}; a sample is {key}.png, {key}.json, {key}.cls, in that order";
    }
}
