using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZetaPrep.Manifests;

/// <summary>The built-in dataset presets, embedded from manifests/*.json so they travel with the library (no files to ship beside it).</summary>
public static class DatasetPresets
{
    private const string ResourcePrefix = "ZetaPrep.Presets.";

    private static readonly Lazy<IReadOnlyList<DatasetPreset>> Loaded = new(Load);

    internal static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter<LabelStyle>(JsonNamingPolicy.SnakeCaseLower) },
        RespectRequiredConstructorParameters = true,
        TypeInfoResolver = ManifestJsonContext.Default,
    };

    /// <summary>Every preset, ordered by name.</summary>
    public static IReadOnlyList<DatasetPreset> All => Loaded.Value;

    /// <summary>The preset named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static DatasetPreset? Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses one preset; a malformed one is a user error naming <paramref name="origin"/>.</summary>
    public static DatasetPreset Parse(string json, string origin)
    {
        try
        {
            var preset = JsonSerializer.Deserialize(json, JsonOptions.Info<DatasetPreset>())
                ?? throw new ZetaPrepException($"{origin}: empty preset.");
            foreach (var (split, s) in preset.Splits)
            {
                var labels = s.Labels;
                var known = new HashSet<string>(preset.Classes, StringComparer.Ordinal);
                if (labels.RestClass is { } rest && !known.Contains(rest))
                {
                    throw new ZetaPrepException($"{origin}: split '{split}' names rest_class '{rest}', which is not in classes; fix the preset.");
                }
                if (labels.Header && labels.IdColumn is null)
                {
                    throw new ZetaPrepException($"{origin}: split '{split}' has a header but no id_column; fix the preset.");
                }
            }
            return preset;
        }
        catch (JsonException e)
        {
            throw new ZetaPrepException($"{origin}: not a valid preset ({e.Message}); see manifests/preset.schema.json.", e);
        }
    }

    private static List<DatasetPreset> Load()
    {
        var assembly = typeof(DatasetPresets).Assembly;
        var presets = new List<DatasetPreset>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            presets.Add(Parse(reader.ReadToEnd(), name[ResourcePrefix.Length..]));
        }
        return presets.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }
}
