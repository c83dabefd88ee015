using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>
/// An output directory of <c>zetaprep generate</c> in any of its formats (Parquet <c>data/*.parquet</c>, WebDataset
/// <c>shard-*.tar</c>, folder <c>labels/*.parquet</c> + <c>images/</c>): its shards, class names, rows, image size and
/// manifest fingerprint.
/// </summary>
/// <param name="Path">The directory as given.</param>
/// <param name="Format">The shard format: manifest.json's, or Parquet for a directory without one.</param>
/// <param name="Files">Shard paths, sorted ordinally.</param>
/// <param name="ClassNames">Class names: from the Parquet shards' footers (every shard must agree), or from manifest.json
/// for WebDataset and folder shards, which record label vectors only.</param>
/// <param name="Rows">Rows in all shards (from the Parquet footers, or manifest.json's per-shard rows).</param>
/// <param name="ImageSize">Side of the square images, read from the first row's PNG header.</param>
/// <param name="InputFingerprint">The manifest's input fingerprint, or null without manifest.json.</param>
/// <param name="ManifestSha256">SHA-256 of manifest.json, or null without one.</param>
public sealed record ShardDirectory(
    string Path,
    IShardFormat Format,
    IReadOnlyList<string> Files,
    IReadOnlyList<string> ClassNames,
    long Rows,
    int ImageSize,
    string? InputFingerprint,
    string? ManifestSha256)
{
    /// <summary>What a run's config.json records of this directory (and a resume compares).</summary>
    public ShardSourceInfo Info => new(Path, Files.Count, Rows, ImageSize, InputFingerprint, ManifestSha256);

    /// <summary>Finds and checks the shards of <paramref name="path"/> (those its manifest.json lists, else <c>path/data/*.parquet</c> or <c>path/*.parquet</c>); a missing, empty or inconsistent directory is a <see cref="ZetaPrepException"/>.</summary>
    public static async Task<ShardDirectory> OpenAsync(string path, string option, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(path))
        {
            throw ZetaPrepException.Usage($"{option} {path}: directory not found; give an output directory of 'zetaprep generate'.");
        }

        var manifestPath = System.IO.Path.Combine(path, GenerationManifest.FileName);
        GenerationManifest? manifest = null;
        var format = ShardFormats.Get(ShardFormat.Parquet);
        List<string> files;
        if (File.Exists(manifestPath))
        {
            manifest = GenerationManifest.Read(manifestPath);
            format = ShardFormats.Get(manifest.Options.Format);
            files = ListedShards(path, option, manifest, ShardFormats.FilesOnDisk(path, format.Kind));
        }
        else if (Directory.EnumerateFiles(path, "manifest.worker-*-of-*.json").FirstOrDefault() is { } partial)
        {
            // Workers' shards before their merge: some may be missing or from another run; merge checks them all.
            throw new ZetaPrepException($"{option} {path}: holds {System.IO.Path.GetFileName(partial)} but no manifest.json, so the workers' shards were never merged (some may be missing); run zetaprep merge {path} first.");
        }
        else
        {
            // WebDataset tars and folder label parts hold label vectors, not class names: those are in manifest.json only.
            var what = ShardFormats.WithoutItsManifest(path) switch
            {
                ShardFormat.Folder => "folder-format shards (labels/*.parquet)",
                ShardFormat.WebDataset => "WebDataset shards",
                _ => null,
            };
            if (what is not null)
            {
                throw ZetaPrepException.Usage($"{option} {path}: holds {what} but no {GenerationManifest.FileName}, which names their classes; give the whole output directory of 'zetaprep generate', manifest.json included.");
            }
            files = ShardFormats.FilesOnDisk(path, ShardFormat.Parquet);
        }

        if (files.Count == 0)
        {
            throw ZetaPrepException.Usage($"{option} {path}: no shards found (expected {System.IO.Path.Combine(path, "data", "*.parquet")}, or the shards {GenerationManifest.FileName} lists); give an output directory of 'zetaprep generate'.");
        }

        IReadOnlyList<string>? classes = null;
        long rows = 0;
        if (format.Kind != ShardFormat.Parquet)
        {
            // Checked against the manifest (listed, same size) by ListedShards; verify checks their rows and bytes.
            classes = manifest!.Classes;
            rows = manifest.Shards.Sum(s => s.Rows);
        }
        else
        {
            foreach (var file in files)
            {
                var meta = await ParquetShardReader.ReadMetadataAsync(file, cancellationToken).ConfigureAwait(false);
                if (classes is null)
                {
                    classes = meta.ClassNames;
                }
                else if (!classes.SequenceEqual(meta.ClassNames, StringComparer.Ordinal))
                {
                    throw new ZetaPrepException($"{file}: class names [{string.Join(", ", meta.ClassNames)}] differ from {files[0]}'s [{string.Join(", ", classes)}]; shards of one directory must come from one run.");
                }

                rows += meta.Rows;
            }
        }

        if (rows == 0)
        {
            throw new ZetaPrepException($"{option} {path}: the shards hold no rows; regenerate the dataset.");
        }

        var size = await FirstImageSizeAsync(path, format, files, cancellationToken).ConfigureAwait(false);
        string? fingerprint = null;
        string? manifestSha = null;
        if (manifest is not null)
        {
            fingerprint = manifest.Input.Fingerprint;
            manifestSha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false)));
        }

        return new ShardDirectory(path, format, files, classes!, rows, size, fingerprint, manifestSha);
    }

    /// <summary>The rows of <paramref name="file"/>, one of <see cref="Files"/>, read with the directory's format.</summary>
    public IAsyncEnumerable<ShardRow> ReadRowsAsync(string file, CancellationToken cancellationToken) =>
        ReadRowsAsync(Path, Format, file, cancellationToken);

    private static IAsyncEnumerable<ShardRow> ReadRowsAsync(string path, IShardFormat format, string file, CancellationToken cancellationToken) =>
        format.ReadRowsAsync(path, System.IO.Path.GetRelativePath(path, file).Replace('\\', '/'), cancellationToken);

    /// <summary>
    /// The shards manifest.json lists, refusing an interrupted generation, a listed shard that is missing or of another
    /// size, and a shard file it does not list (a stray or another run's file would otherwise be trained on).
    /// </summary>
    private static List<string> ListedShards(string path, string option, GenerationManifest manifest, List<string> found)
    {
        if (!manifest.Complete)
        {
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                $"{option} {path}: the generation was interrupted ({GenerationManifest.FileName} says complete: false, {manifest.Shards.Count} of {manifest.Plan.Shards} shards written); finish it with 'zetaprep generate ... --resume' (same options) or check it with 'zetaprep verify {path}'."));
        }

        var listed = new List<string>();
        foreach (var entry in manifest.Shards)
        {
            var file = System.IO.Path.GetFullPath(System.IO.Path.Combine(path, entry.File));
            var info = new FileInfo(file);
            if (!info.Exists || info.Length != entry.Bytes)
            {
                var what = info.Exists ? string.Create(CultureInfo.InvariantCulture, $"has {info.Length} bytes, {GenerationManifest.FileName} says {entry.Bytes}") : $"is listed in {GenerationManifest.FileName} but missing";
                throw new ZetaPrepException($"{option} {path}: shard {entry.File} {what}; check the directory with 'zetaprep verify {path}' and redo damaged shards with 'zetaprep generate ... --resume'.");
            }

            listed.Add(file);
        }

        var listedSet = listed.ToHashSet(StringComparer.Ordinal);
        var strays = found.Where(f => !listedSet.Contains(System.IO.Path.GetFullPath(f))).Select(f => System.IO.Path.GetRelativePath(path, f)).ToList();
        if (strays.Count > 0)
        {
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                $"{option} {path}: {string.Join(", ", strays.Take(3))}{(strays.Count > 3 ? $" and {strays.Count - 3} more" : "")} not listed in {GenerationManifest.FileName} (not part of this generation); move {(strays.Count == 1 ? "it" : "them")} out of the directory."));
        }

        // Paths as the directory was given (like a manifest-less directory's), in name order.
        return [.. manifest.Shards.Select(e => System.IO.Path.Combine(path, e.File)).Order(StringComparer.Ordinal)];
    }

    private static async Task<int> FirstImageSizeAsync(string path, IShardFormat format, List<string> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await foreach (var row in ReadRowsAsync(path, format, file, cancellationToken).ConfigureAwait(false))
            {
                // ZetaPrep writes square PNGs; the width sits at byte 16 of the IHDR chunk.
                var png = row.ImageBytes.Span;
                if (png.Length < 24 || png[1] != (byte)'P' || png[2] != (byte)'N' || png[3] != (byte)'G')
                {
                    throw new ZetaPrepException($"{file}: row '{row.ImagePath}' is not a PNG; point --data at ZetaPrep shards.");
                }

                return BinaryPrimitives.ReadInt32BigEndian(png[16..]);
            }
        }

        throw new ZetaPrepException($"{files[0]}: the shards hold no rows; regenerate the dataset.");
    }
}
