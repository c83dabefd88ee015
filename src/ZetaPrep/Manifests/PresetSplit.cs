namespace ZetaPrep.Manifests;

/// <summary>One split of a preset: the image zips, the label file and, where published, a duplicates list.</summary>
public sealed record PresetSplit
{
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>
    /// Folders the image zips unpack into where that is not the zip's own name (ISIC 2020's zip holds <c>train/</c>): a
    /// download unpacked in place is recognised by them, beside the split's label file, and refused with the zip to put back.
    /// </summary>
    public IReadOnlyList<string> UnpackedFolders { get; init => field = value ?? []; } = [];

    public required LabelSpec Labels { get; init; }

    /// <summary>CSV of duplicate pairs (image_name_1,image_name_2); `--exclude-duplicates` drops the second of each.</summary>
    public string? Duplicates { get; init; }

    /// <summary>Every file the split needs locally, in a stable order (duplicates only when asked for).</summary>
    public IReadOnlyList<string> RequiredFiles(bool withDuplicates) =>
        [.. Images, Labels.File, .. withDuplicates && Duplicates is { } d ? [d] : Array.Empty<string>()];
}
