using ZetaPrep.Manifests;

namespace ZetaPrep.Sources;

/// <summary>Images in zips (read in place) or a folder, labelled by a CSV: the ISIC presets and `--labels` custom datasets.</summary>
public sealed class LabelledImageSource : IImageSource, IIdentifiableSource, IDisposable
{
    private readonly LabelledSourceSetup _setup;
    private readonly IReadOnlyList<IImageContainer> _containers;
    private Dictionary<string, (IImageContainer Container, string Location)>? _locations;

    internal LabelledImageSource(LabelledSourceSetup setup)
    {
        _setup = setup;
        _containers = setup.Images.Select(p => Directory.Exists(p) ? (IImageContainer)new FolderImageContainer(p) : new ZipImageArchive(p)).ToList();
    }

    public string Description => _setup.Description;

    /// <summary>The input files (archives, label file) whose size and SHA-256 a manifest records, whether or not they exist now.</summary>
    internal IReadOnlyList<string> ProvenanceFiles => _setup.ProvenanceFiles;

    /// <summary>A zip member is identified by its archive's identity (any change to the zip changes it), a file by its own.</summary>
    InputsIdentity? IIdentifiableSource.Identify(IReadOnlyList<SourceItem> items, int threads, CancellationToken cancellationToken) =>
        InputsIdentity.Compute("labelled " + _setup.Description, items, item =>
        {
            var (container, location) = Locate(item);
            return container is ZipImageArchive ? container.Path : Path.Combine(container.Path, location);
        }, threads, cancellationToken);

    public Task<SourceListing> ListAsync(CancellationToken cancellationToken)
    {
        var labels = ReadLabels();
        var (images, excluded) = ListImages(cancellationToken);
        // --exclude drops an image and, silently, its label row, as --exclude-duplicates does; a row whose image is
        // neither there nor excluded is still an error below.
        if (excluded.Overlaps(labels.Rows.Keys))
        {
            labels = labels.With(labels.Rows.Values.Where(r => images.ContainsKey(r.Id) || !excluded.Contains(r.Id)));
        }
        var items = new List<SourceItem>(images.Count);
        foreach (var (id, (container, location, size)) in images)
        {
            if (!labels.Rows.TryGetValue(id, out var row))
            {
                throw new ZetaPrepException($"{container.Path}: image {location} (id {id}) has no row in {_setup.LabelFileName}{NormalFormHint(id)}; add a row or remove the image.");
            }
            items.Add(new SourceItem(id, row.ClassIndex, size, row.SoftLabel));
        }
        var orphans = labels.Rows.Values.Where(r => !images.ContainsKey(r.Id)).OrderBy(r => r.Line).ToList();
        if (orphans.Count > 0)
        {
            var more = orphans.Count > 1 ? $" (and {orphans.Count - 1} more label row(s) without an image)" : "";
            throw new ZetaPrepException($"{_setup.LabelFileName} line {orphans[0].Line}: image {orphans[0].Id} has a label row but no image in {string.Join(", ", _containers.Select(c => Path.GetFileName(c.Path)))}{more}{NormalFormHint(orphans[0].Id)}; check the download is complete or remove the row.");
        }
        if (items.Count < 2)
        {
            throw new ZetaPrepException($"{Description}: {items.Count} labelled image(s) found; at least 2 are needed.");
        }
        if (labels.ClassNames.Count < 2)
        {
            // Every label would be [1], as for an ImageFolder with one class folder, which is refused the same way.
            throw ZetaPrepException.Usage($"{_setup.LabelFileName}: only one class ('{(labels.ClassNames.Count > 0 ? labels.ClassNames[0] : "")}'); mixing needs labels of at least two classes: check --label-column (or the label columns) names the class.");
        }
        items.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        _locations = images.ToDictionary(kv => kv.Key, kv => (kv.Value.Container, kv.Value.Location), StringComparer.Ordinal);
        var files = _setup.ProvenanceFiles.Where(File.Exists).ToList();
        var provenance = new SourceProvenance(_setup.Preset, _setup.Split, files)
        {
            LabelFile = _setup.Preset is null ? _setup.LabelFile : null,
            IdColumn = _setup.Preset is null ? _setup.Labels.IdColumn : null,
            LabelColumn = _setup.Preset is null ? _setup.Labels.LabelColumn : null,
            Exclude = _setup.ExcludeGlobs,
            ExcludeDuplicates = _setup.ExcludesDuplicates,
        };
        return Task.FromResult(new SourceListing(labels.ClassNames, items) { Provenance = provenance, UnmatchedExcludes = _setup.Exclude.Unmatched });
    }

    /// <summary>
    /// Where an unmatched id holds a combining accent (U+0300–U+036F: "e" + U+0301 rather than "é"), the likely cause:
    /// the same name in another Unicode normal form on the other side (macOS writes file names decomposed, NFD; most
    /// CSVs are composed, NFC). Ids are compared as written, byte for byte.
    /// </summary>
    private static string NormalFormHint(string id) => id.Any(c => c is >= '\u0300' and <= '\u036F')
        ? " (the id holds a combining accent, as names written in Unicode NFD do, e.g. by macOS: if the other side spells it composed (NFC), ids differ byte for byte; convert the file names with `convmv -f utf8 -t utf8 --nfc -r --notest DIR`, or the CSV to NFD)"
        : "";

    /// <summary>The image file, or the zip and its entry (the id alone, without extension or folder, named no file there is).</summary>
    public string DisplayName(SourceItem item)
    {
        var (container, location) = Locate(item);
        return container is ZipImageArchive ? $"{container.Path} entry {location}" : Path.Combine(container.Path, location);
    }

    public Task<byte[]> ReadAsync(SourceItem item, CancellationToken cancellationToken)
    {
        var (container, location) = Locate(item);
        return container.ReadAsync(location, cancellationToken);
    }

    public ValueTask<PooledBytes> ReadPooledAsync(SourceItem item, CancellationToken cancellationToken)
    {
        var (container, location) = Locate(item);
        return ValueTask.FromResult(container.ReadPooled(location, item.Size, cancellationToken));
    }

    public void Dispose()
    {
        foreach (var container in _containers)
        {
            container.Dispose();
        }
    }

    private (IImageContainer Container, string Location) Locate(SourceItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (_locations is null || !_locations.TryGetValue(item.Id, out var at))
        {
            throw new InvalidOperationException($"Item {item.Id} was not listed by this source; call ListAsync first.");
        }
        return at;
    }

    private LabelTable ReadLabels()
    {
        var path = _setup.LabelFile;
        var spec = _setup.Labels;
        byte[] bytes;
        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            // Only a preset names the CSV inside a zipped label file; a --labels user can only unzip it (QA: the line had
            // spoken of a preset's 'entry').
            var entry = spec.Entry ?? throw ZetaPrepException.Usage($"--labels {path}: a zip, not a CSV; unzip it and give the CSV inside to --labels.");
            using var zip = new ZipImageArchive(path);
            bytes = zip.ReadNamed(entry)
                ?? throw new ZetaPrepException($"{path}: no entry {entry}; expected the official ground-truth zip — download it again.");
        }
        else
        {
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ZetaPrepException($"{path}: cannot read the label file ({e.Message}).", e);
            }
        }
        using var stream = new MemoryStream(bytes, writable: false);
        var table = LabelTable.Parse(CsvTable.Read(stream, spec.Header, _setup.LabelFileName), _setup.LabelFileName, spec, _setup.Classes);
        if (_setup.ExcludedIds.Count == 0)
        {
            return table;
        }
        return table.With(table.Rows.Values.Where(r => !_setup.ExcludedIds.Contains(r.Id)));
    }

    /// <summary>
    /// Image entries by id: masks, metadata, __MACOSX and dot files, excluded ids and non-matching names are skipped; the
    /// ids of the files that `--exclude` skipped come back beside them.
    /// </summary>
    private (SortedDictionary<string, (IImageContainer Container, string Location, long Size)> Images, HashSet<string> Excluded) ListImages(CancellationToken cancellationToken)
    {
        var pattern = _setup.IdPattern is { } p ? DatasetPreset.IdMatcher(p) : null;
        var images = new SortedDictionary<string, (IImageContainer, string, long)>(StringComparer.Ordinal);
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var container in _containers)
        {
            foreach (var (location, size) in container.List())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var segments = location.Split('/');
                var name = segments[^1];
                if (segments.Contains("__MACOSX") || segments.Any(s => s.StartsWith('.') && s is not "." and not "..")
                    || !ImageFolderSource.ImageExtensions.Contains(Path.GetExtension(name)))
                {
                    continue;
                }
                var stem = Path.GetFileNameWithoutExtension(name);
                // ISIC 2017 zips hold ISIC_…_superpixels.png masks beside the images: never inputs.
                if (stem.EndsWith("_superpixels", StringComparison.OrdinalIgnoreCase) || (pattern is not null && !pattern.IsMatch(stem)))
                {
                    continue;
                }
                if (_setup.Exclude.Matches(location))
                {
                    if (LabelTable.TryNormaliseId(stem, out var excludedId))
                    {
                        excluded.Add(excludedId);
                    }
                    continue;
                }
                if (IsCrafted(location, segments, container is ZipImageArchive))
                {
                    throw new ZetaPrepException(container is ZipImageArchive
                        ? $"{container.Path}: entry name '{location}' is absolute or contains '..' or NUL; refusing a crafted archive — use the official download."
                        : $"{container.Path}: file '{location}' is absolute or contains '..' or NUL; refusing it — rename or remove the file.");
                }
                var id = LabelTable.NormaliseId(stem, $"{container.Path}: {location}");
                if (_setup.ExcludedIds.Contains(id))
                {
                    continue;
                }
                if (images.TryGetValue(id, out var first))
                {
                    throw new ZetaPrepException($"{container.Path}: image {id} appears twice ({first.Item1.Path}: {first.Item2} and {location}); remove one copy.");
                }
                images[id] = (container, location, size);
            }
        }
        return (images, excluded);
    }

    /// <summary>
    /// A name no honest archive or folder gives: absolute ('/…', or a Windows drive 'C:/…' in a zip), a '..' segment, or
    /// NUL. Nothing is extracted, so these are refused as a sign of a crafted input; any other character, ':' included,
    /// is legal in a Linux or macOS file name and ImageFolder mode takes it.
    /// </summary>
    private static bool IsCrafted(string location, string[] segments, bool zip) =>
        location.StartsWith('/') || segments.Contains("..") || location.Contains('\0', StringComparison.Ordinal)
        || (zip && location.Length >= 3 && char.IsAsciiLetter(location[0]) && location[1] == ':' && location[2] == '/');
}

/// <summary>What a <see cref="LabelledImageSource"/> reads: image zips/folders, the label file and how to read it.</summary>
internal sealed record LabelledSourceSetup
{
    public required string Description { get; init; }

    public required IReadOnlyList<string> Images { get; init; }

    public required string LabelFile { get; init; }

    public required LabelSpec Labels { get; init; }

    /// <summary>Null: derive class names from the label file.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    public string? IdPattern { get; init; }

    public PathGlob Exclude { get; init; } = new([]);

    /// <summary>The globs behind <see cref="Exclude"/>, as given (recorded in the manifest).</summary>
    public IReadOnlyList<string> ExcludeGlobs { get; init; } = [];

    public IReadOnlySet<string> ExcludedIds { get; init; } = new HashSet<string>();

    /// <summary>Whether <see cref="ExcludedIds"/> is the preset's duplicates list (`--exclude-duplicates`).</summary>
    public bool ExcludesDuplicates { get; init; }

    public string? Preset { get; init; }

    public string? Split { get; init; }

    /// <summary>Files whose size and SHA-256 go into the manifest.</summary>
    public IReadOnlyList<string> ProvenanceFiles { get; init; } = [];

    /// <summary>The label file as named in messages: its path, plus the CSV's path inside a zip.</summary>
    public string LabelFileName => Labels.Entry is { } entry && LabelFile.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? $"{LabelFile}!{entry}" : LabelFile;
}
