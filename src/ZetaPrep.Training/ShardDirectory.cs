using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>An output directory of <c>zetaprep generate</c>: its DATA/*.parquet shards, class names, rows, image size and manifest fingerprint.</summary>
/// <param name="Path">The directory as given.</param>
/// <param name="Files">Shard paths, sorted ordinally.</param>
/// <param name="ClassNames">Class names from the first shard's footer (every shard must agree).</param>
/// <param name="Rows">Rows in all shards (from the footers).</param>
/// <param name="ImageSize">Side of the square images, read from the first row's PNG header.</param>
/// <param name="InputFingerprint">The manifest's input fingerprint, or null without manifest.json.</param>
/// <param name="ManifestSha256">SHA-256 of manifest.json, or null without one.</param>
public sealed record ShardDirectory(
    string Path,
    IReadOnlyList<string> Files,
    IReadOnlyList<string> ClassNames,
    long Rows,
    int ImageSize,
    string? InputFingerprint,
    string? ManifestSha256)
{
    /// <summary>What a run's config.json records of this directory (and a resume compares).</summary>
    public ShardSourceInfo Info => new(Path, Files.Count, Rows, ImageSize, InputFingerprint, ManifestSha256);

    /// <summary>Finds and checks the shards under <paramref name="path"/> (or <c>path/data</c>); a missing, empty or inconsistent directory is a <see cref="ZetaPrepException"/>.</summary>
    public static async Task<ShardDirectory> OpenAsync(string path, string option, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(path))
        {
            throw ZetaPrepException.Usage($"{option} {path}: directory not found; give an output directory of 'zetaprep generate'.");
        }

        var dataDir = System.IO.Path.Combine(path, "data");
        var searchDir = Directory.Exists(dataDir) ? dataDir : path;
        var files = Directory.EnumerateFiles(searchDir, "*.parquet")
            .Where(f => !System.IO.Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
        var manifestPath = System.IO.Path.Combine(path, GenerationManifest.FileName);
        GenerationManifest? manifest = null;
        if (File.Exists(manifestPath))
        {
            manifest = GenerationManifest.Read(manifestPath);
            files = ListedShards(path, option, manifest, files);
        }
        else if (Directory.EnumerateFiles(path, "manifest.worker-*-of-*.json").FirstOrDefault() is { } partial)
        {
            // Workers' shards before their merge: some may be missing or from another run; merge checks them all.
            throw new ZetaPrepException($"{option} {path}: holds {System.IO.Path.GetFileName(partial)} but no manifest.json, so the workers' shards were never merged (some may be missing); run zetaprep merge {path} first.");
        }

        if (files.Count == 0)
        {
            throw ZetaPrepException.Usage($"{option} {path}: no shards found (expected {System.IO.Path.Combine(path, "data", "*.parquet")}); give an output directory of 'zetaprep generate'.");
        }

        IReadOnlyList<string>? classes = null;
        long rows = 0;
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

        if (rows == 0)
        {
            throw new ZetaPrepException($"{option} {path}: the shards hold no rows; regenerate the dataset.");
        }

        var size = await FirstImageSizeAsync(files, cancellationToken).ConfigureAwait(false);
        string? fingerprint = null;
        string? manifestSha = null;
        if (manifest is not null)
        {
            fingerprint = manifest.Input.Fingerprint;
            manifestSha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false)));
        }

        return new ShardDirectory(path, files, classes!, rows, size, fingerprint, manifestSha);
    }

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

        if (manifest.Options.Format != "parquet")
        {
            throw ZetaPrepException.Usage($"{option} {path}: generated with --format {manifest.Options.Format}; training reads Parquet shards, so generate with --format parquet.");
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

    private static async Task<int> FirstImageSizeAsync(List<string> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await foreach (var row in ParquetShardReader.ReadRowsAsync(file, cancellationToken).ConfigureAwait(false))
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
