using System.Text.RegularExpressions;

namespace ZetaPrep.Manifests;

/// <summary>A dataset preset (manifests/&lt;name&gt;.json): the official file names of each split and how to read their labels.</summary>
public sealed record DatasetPreset
{
    public required string Name { get; init; }

    public required string Title { get; init; }

    public required IReadOnlyList<string> Classes { get; init; }

    public required string Licence { get; init; }

    public required string DownloadUrl { get; init; }

    /// <summary>Regex an image's file stem must match in full; other entries (masks, metadata) are ignored.</summary>
    public string? IdPattern { get; init; }

    public string? Notes { get; init; }

    /// <summary>The matcher for an <see cref="IdPattern"/>: a file stem must match it in full.</summary>
    public static Regex IdMatcher(string idPattern) =>
        new($"^(?:{idPattern})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public required IReadOnlyDictionary<string, PresetSplit> Splits { get; init; }
}
