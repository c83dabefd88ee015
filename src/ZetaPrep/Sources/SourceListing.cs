using ZetaPrep.Manifests;

namespace ZetaPrep.Sources;

/// <summary>A source's class names and its items sorted by id (ordinal): the plan's input.</summary>
public sealed record SourceListing(IReadOnlyList<string> ClassNames, IReadOnlyList<SourceItem> Items)
{
    /// <summary>Preset, split and input files with their SHA-256, where the source knows them (archive sources).</summary>
    public SourceProvenance? Provenance { get; init; }

    /// <summary>An ImageFolder's class folders that hold no image (after --exclude): not classes of this listing.</summary>
    public IReadOnlyList<string> EmptyClassFolders { get; init; } = [];

    /// <summary>The `--exclude` patterns that matched no file of the input (the run notes them: a typo excludes nothing).</summary>
    public IReadOnlyList<string> UnmatchedExcludes { get; init; } = [];

    /// <summary>An ImageFolder's images the listing passed over, one phrase per kind ("6 .tif file(s), a format …"): the run notes them.</summary>
    public IReadOnlyList<string> PassedOver { get; init; } = [];

    /// <summary>
    /// The input fingerprint (<see cref="InputFingerprint"/>) of these items, given each one's size and content SHA-256
    /// in listing order: what generate records in its manifest, and what compare holds its earlier runs against.
    /// </summary>
    public string Fingerprint(IReadOnlyList<long> sizes, IReadOnlyList<byte[]> sha256)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(sha256);
        return InputFingerprint.Compute(Items.Select((item, i) => (item.Id, sizes[i], sha256[i])).ToList(), ClassNames, (i, label) => WriteLabel(i, label));
    }

    /// <summary>The label vector of item <paramref name="index"/>: its soft label, or one-hot of its class.</summary>
    public void WriteLabel(int index, Span<double> label)
    {
        var item = Items[index];
        label.Clear();
        if (item.SoftLabel is { } soft)
        {
            for (var i = 0; i < soft.Length; i++)
            {
                label[i] = soft[i];
            }
        }
        else
        {
            label[item.ClassIndex] = 1.0;
        }
    }
}
