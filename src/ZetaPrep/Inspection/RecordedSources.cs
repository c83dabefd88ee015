using System.Globalization;
using ZetaPrep.Manifests;
using ZetaPrep.Sources;

namespace ZetaPrep.Inspection;

/// <summary>
/// Reads a row's originals back through the source its manifest records (<see cref="SourceResolver.Reopen"/>: the
/// preset's archives, a zip or folder with its label file, or the ImageFolder), or says in one line why not: the input is
/// gone, it changed since the run, or a source id is no longer in it.
/// </summary>
/// <remarks>
/// What "changed" can cheaply mean: a recorded archive or label file whose size differs, or whose SHA-256 differs where it
/// is cheap to know (the hash cache remembers it, or the file is at most <see cref="HashedBytes"/>); a labelled or preset
/// input that now lists another number of images. The input fingerprint covers every image's content and would mean
/// reading the whole input, so it is not checked. An ImageFolder is not listed (its class depth is not recorded, and a
/// listing walks every folder): its sources are read by id, the path below the folder.
/// </remarks>
internal static class RecordedSources
{
    /// <summary>Recorded files up to this size are hashed to compare with the manifest (label CSVs, small zips).</summary>
    private const long HashedBytes = 64L * 1024 * 1024;

    /// <summary>The encoded bytes of each of <paramref name="ids"/>, in order; or null and the reason none are given.</summary>
    public static async Task<(IReadOnlyList<byte[]>? Encoded, string? Problem)> ReadAsync(GenerationManifest manifest, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var input = manifest.Input;
        if (Missing(input) is { } gone)
        {
            return (null, gone);
        }
        IImageSource source;
        try
        {
            source = SourceResolver.Reopen(input);
        }
        catch (ZetaPrepException e)
        {
            return (null, e.Message);
        }
        try
        {
            return source switch
            {
                LabelledImageSource labelled => await ReadListedAsync(labelled, manifest, ids, cancellationToken).ConfigureAwait(false),
                _ => await ReadByIdAsync(source, input.Source, ids, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (ZetaPrepException e)
        {
            return (null, e.Message);
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }

    /// <summary>The first recorded input path that no longer exists, as a sentence; null when all do.</summary>
    private static string? Missing(InputInfo input)
    {
        var isZip = input.Source.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(input.Source);
        if (!Directory.Exists(input.Source) && !File.Exists(input.Source))
        {
            return $"input {(isZip ? "zip" : "directory")} {input.Source} no longer exists";
        }
        if (input.Labels is { } labels && !File.Exists(labels))
        {
            return $"label file {labels} no longer exists";
        }
        if (input.Preset is not null)
        {
            foreach (var file in input.Files ?? [])
            {
                var path = Path.Combine(input.Source, file.Name);
                if (!File.Exists(path))
                {
                    return $"input file {path} ({input.Preset} {input.Split}) no longer exists";
                }
            }
        }
        return null;
    }

    private static async Task<(IReadOnlyList<byte[]>?, string?)> ReadListedAsync(LabelledImageSource source, GenerationManifest manifest, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var input = manifest.Input;
        foreach (var file in input.Files ?? [])
        {
            var path = source.ProvenanceFiles.FirstOrDefault(p => string.Equals(Path.GetFileName(p), file.Name, StringComparison.Ordinal));
            if (path is not null && await ChangedAsync(path, file, cancellationToken).ConfigureAwait(false) is { } changed)
            {
                return (null, changed);
            }
        }
        SourceListing listing;
        try
        {
            listing = await source.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ZetaPrepException e)
        {
            return (null, $"input {input.Source} no longer lists as it did when the output was generated: {e.Message}");
        }
        var recorded = input.Count + manifest.Skipped.Count;
        if (listing.Items.Count != recorded)
        {
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"input {input.Source} now lists {listing.Items.Count} images where the manifest records {recorded}: it changed since the output was generated"));
        }
        var byId = listing.Items.ToDictionary(i => i.Id, StringComparer.Ordinal);
        var encoded = new List<byte[]>(ids.Count);
        foreach (var id in ids)
        {
            if (!byId.TryGetValue(id, out var item))
            {
                return (null, $"source {id} is no longer in input {input.Source}");
            }
            encoded.Add(await source.ReadAsync(item, cancellationToken).ConfigureAwait(false));
        }
        return (encoded, null);
    }

    private static async Task<(IReadOnlyList<byte[]>?, string?)> ReadByIdAsync(IImageSource source, string root, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var encoded = new List<byte[]>(ids.Count);
        foreach (var id in ids)
        {
            if (!File.Exists(Path.Combine(root, id)))
            {
                return (null, $"source {id} is no longer in input directory {root}");
            }
            encoded.Add(await source.ReadAsync(new SourceItem(id, 0, 0), cancellationToken).ConfigureAwait(false));
        }
        return (encoded, null);
    }

    /// <summary>How <paramref name="path"/> differs from the manifest's record of it, as a sentence; null when it does not (as far as is cheap to tell).</summary>
    private static async Task<string?> ChangedAsync(string path, InputFile recorded, CancellationToken cancellationToken)
    {
        long bytes;
        try
        {
            bytes = new FileInfo(path).Length;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return $"input file {path} no longer exists";
        }
        if (bytes != recorded.Bytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"input file {path} changed since the output was generated ({bytes} bytes, the manifest records {recorded.Bytes})");
        }
        var hash = FileHashCache.FromEnvironment()?.Remembered(path);
        if (hash is null && bytes <= HashedBytes)
        {
            try
            {
                (_, hash) = await FileHashCache.HashFileAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"input file {path} cannot be read ({e.Message.TrimEnd('.')})";
            }
        }
        return hash is not null && Convert.ToHexStringLower(hash) != recorded.Sha256
            ? $"input file {path} changed since the output was generated (its SHA-256 differs from the manifest's)"
            : null;
    }
}
