using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Planning;
using ZetaPrep.Shards;
using ZetaPrep.Sources;

namespace ZetaPrep.Analysis;

/// <summary>
/// A seeded uniform subsample of an input's images as RGB24 rows of 3·S² bytes: points for pixel-space analysis.
/// Like <c>Pipeline/</c>, this reads both sources and shards; it only reads, so neither learns about the other.
/// </summary>
/// <param name="InputKind"><c>shards</c> or <c>imagefolder</c>.</param>
/// <param name="Available">Images in the input.</param>
/// <param name="Count">Images loaded.</param>
/// <param name="ImageSize">Side S of every loaded image.</param>
/// <param name="Pixels">Count rows of 3·S² bytes, in input order (the order of the sorted listing or of the shards' rows).</param>
public sealed record PixelSample(string InputKind, long Available, int Count, int ImageSize, byte[] Pixels)
{
    /// <summary>Bytes (= ambient dimension) of one point.</summary>
    public int Dimension => 3 * ImageSize * ImageSize;

    /// <summary>
    /// Loads at most <paramref name="maxSamples"/> images from a <c>zetaprep generate</c> output (manifest.json's shards in
    /// any format, else data/*.parquet or *.parquet), one .parquet shard, or an ImageFolder; shards keep their size unless
    /// <paramref name="size"/> is given, folders default to <see cref="IntrinsicDimensionOptions.DefaultFolderSize"/>.
    /// </summary>
    public static async Task<PixelSample> LoadAsync(string path, int maxSamples, int? size, ulong seed, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSamples, 1);
        var decoder = new SkiaImageDecoder();
        if (File.Exists(path) && path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return await LoadShardsAsync([ParquetFile(path)], maxSamples, size, seed, decoder, ct).ConfigureAwait(false);
        }

        if (File.Exists(path))
        {
            throw ZetaPrepException.Usage($"{path}: a file but not a .parquet shard; give a 'zetaprep generate' output directory, a .parquet shard or an ImageFolder.");
        }

        if (!Directory.Exists(path))
        {
            throw ZetaPrepException.Usage($"{path}: not found; give a 'zetaprep generate' output directory, a .parquet shard or an ImageFolder.");
        }

        List<ShardInput>? shards = ShardFiles(path);
        if (shards is { Count: 0 })
        {
            throw new ZetaPrepException($"{Path.Combine(path, GenerationManifest.FileName)}: lists no shards, so the output has no rows to analyze; generate it again.");
        }
        if (shards is not null)
        {
            return await LoadShardsAsync(shards, maxSamples, size, seed, decoder, ct).ConfigureAwait(false);
        }

        return await LoadFolderAsync(path, maxSamples, size ?? IntrinsicDimensionOptions.DefaultFolderSize, seed, decoder, ct).ConfigureAwait(false);
    }

    /// <summary>Sorted distinct indices: a uniform sample of min(m, n) out of 0..n−1 (Floyd's algorithm), fixed by the seed.</summary>
    internal static int[] SampleIndices(long n, int m, ulong seed)
    {
        if (n > int.MaxValue)
        {
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture, $"{n} images is more than this analysis can index; analyse a part of the input."));
        }

        int total = (int)n;
        if (m >= total)
        {
            return Enumerable.Range(0, total).ToArray();
        }

        var random = new DeterministicRandom(seed, streamA: 0x616E616C797A65UL); // "analyze": its own stream, apart from the planner's
        var chosen = new HashSet<int>();
        for (int j = total - m; j < total; j++)
        {
            int t = random.NextInt(j + 1);
            chosen.Add(chosen.Contains(t) ? j : t);
        }

        int[] result = [.. chosen];
        Array.Sort(result);
        return result;
    }

    /// <summary>One shard to sample from: its path (for messages), its rows where known without opening it, and its reader.</summary>
    private sealed record ShardInput(string Path, long? Rows, Func<CancellationToken, IAsyncEnumerable<ShardRow>> Read);

    private static ShardInput ParquetFile(string path) => new(path, null, ct => ParquetShardReader.ReadRowsAsync(path, ct));

    private static List<ShardInput>? ShardFiles(string dir)
    {
        string manifestPath = Path.Combine(dir, GenerationManifest.FileName);
        if (File.Exists(manifestPath))
        {
            var manifest = GenerationManifest.Read(manifestPath);
            // As train does: the shards of an interrupted run are a part of the dataset chosen by where it stopped.
            if (!manifest.Complete)
            {
                throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                    $"{dir}: the generation was interrupted ({GenerationManifest.FileName} says complete: false, {manifest.Shards.Count} of {manifest.Plan.Shards} shards written); analyze reads complete outputs: finish it with 'zetaprep generate ... --resume' (same options), or give one .parquet shard to analyse that shard alone."));
            }
            // Any format through its own reader; Parquet's rows from the footers (as a directory without manifest.json),
            // WebDataset's and the folder format's from the manifest, as their shards record no count of their own.
            var format = ShardFormats.Get(manifest.Options.Format);
            return [.. manifest.Shards.Select(s => format.Kind == ShardFormat.Parquet
                ? ParquetFile(Path.Combine(dir, s.File))
                : new ShardInput(Path.Combine(dir, s.File), s.Rows, ct => format.ReadRowsAsync(dir, s.File, ct)))];
        }

        // Workers write manifest.worker-I-of-W.json and their own shards; before the merge some shards may be missing.
        if (Directory.EnumerateFiles(dir, "manifest.worker-*-of-*.json").Order(StringComparer.Ordinal).FirstOrDefault() is { } partial)
        {
            throw new ZetaPrepException($"{dir}: holds {Path.GetFileName(partial)} but no {GenerationManifest.FileName}: the workers' shards were never merged (some may be missing); run zetaprep merge {dir} first.");
        }

        var what = ShardFormats.WithoutItsManifest(dir) switch
        {
            ShardFormat.Folder => "folder-format shards (labels/*.parquet)",
            ShardFormat.WebDataset => "WebDataset shards (shard-*.tar)",
            _ => null,
        };
        if (what is not null)
        {
            throw ZetaPrepException.Usage($"{dir}: holds {what} but no {GenerationManifest.FileName}; analyze reads them through the manifest that names their format: give the whole output directory of 'zetaprep generate'.");
        }
        var files = ShardFormats.FilesOnDisk(dir, ShardFormat.Parquet);
        return files.Count > 0 ? [.. files.Select(ParquetFile)] : null;
    }

    private static async Task<PixelSample> LoadShardsAsync(List<ShardInput> files, int maxSamples, int? size, ulong seed, SkiaImageDecoder decoder, CancellationToken ct)
    {
        if (files.Count == 0)
        {
            throw new ZetaPrepException("The manifest lists no shards; the output is empty — generate it again.");
        }

        var rowsPerShard = new long[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            rowsPerShard[i] = files[i].Rows ?? (await ParquetShardReader.ReadMetadataAsync(files[i].Path, ct).ConfigureAwait(false)).Rows;
        }

        long available = rowsPerShard.Sum();
        if (available == 0)
        {
            throw new ZetaPrepException($"{Path.GetDirectoryName(files[0].Path)}: the shards hold no rows; nothing to analyse.");
        }

        int[] wanted = SampleIndices(available, maxSamples, seed);
        if (size is { } given)
        {
            IntrinsicDimensionOptions.CheckFits(wanted.Length, given, maxSamples);
        }

        int? side = size;
        var encoded = new List<(ReadOnlyMemory<byte> Bytes, string Name)>(wanted.Length);
        long first = 0;
        int next = 0;
        for (int f = 0; f < files.Count && next < wanted.Length; first += rowsPerShard[f], f++)
        {
            if (wanted[next] >= first + rowsPerShard[f])
            {
                continue; // no sampled row in this shard: skip reading it
            }

            long index = first;
            await foreach (var row in files[f].Read(ct).ConfigureAwait(false))
            {
                if (next < wanted.Length && wanted[next] == index)
                {
                    encoded.Add((row.ImageBytes, $"{files[f].Path}:{row.ImagePath}"));
                    next++;
                    if (side is null)
                    {
                        // The shards' own size, read from the first sampled image, is checked before any more are read.
                        side = decoder.ReadHeader(encoded[0].Bytes.Span, encoded[0].Name).Width;
                        IntrinsicDimensionOptions.CheckFits(wanted.Length, side.Value, maxSamples, sizeGiven: false);
                    }
                }

                index++;
            }
        }

        int resolved = side ?? decoder.ReadHeader(encoded[0].Bytes.Span, encoded[0].Name).Width;
        byte[] pixels = await DecodeAllAsync(encoded.Count, resolved, i => Task.FromResult(encoded[i]), decoder,
            "the shard is damaged: regenerate it ('zetaprep verify' on its output directory names every damaged row)", ct).ConfigureAwait(false);
        return new PixelSample("shards", available, encoded.Count, resolved, pixels);
    }

    private static async Task<PixelSample> LoadFolderAsync(string dir, int maxSamples, int side, ulong seed, SkiaImageDecoder decoder, CancellationToken ct)
    {
        if (!Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw ZetaPrepException.Usage($"analyze {dir}: empty directory; give a 'zetaprep generate' output directory, a .parquet shard or an ImageFolder (one sub-folder of images per class).");
        }

        var source = new ImageFolderSource(dir, new ImageFolderOptions { OptionName = "analyze" });
        var listing = await source.ListAsync(ct).ConfigureAwait(false);
        int[] wanted = SampleIndices(listing.Items.Count, maxSamples, seed);
        IntrinsicDimensionOptions.CheckFits(wanted.Length, side, maxSamples);
        byte[] pixels = await DecodeAllAsync(wanted.Length, side, async i =>
        {
            var item = listing.Items[wanted[i]];
            return (await source.ReadAsync(item, ct).ConfigureAwait(false), Path.Combine(dir, item.Id));
        }, decoder, "replace or remove that image", ct).ConfigureAwait(false);
        return new PixelSample("imagefolder", listing.Items.Count, wanted.Length, side, pixels);
    }

    /// <summary>Decodes the sampled images into one array; an image that does not decode is one line naming it and
    /// <paramref name="wayOn"/>, what to do about it.</summary>
    private static async Task<byte[]> DecodeAllAsync(int count, int side, Func<int, Task<(ReadOnlyMemory<byte> Bytes, string Name)>> read, SkiaImageDecoder decoder, string wayOn, CancellationToken ct)
    {
        int dimension = 3 * side * side;
        var pixels = new byte[checked((long)count * dimension)]; // within Array.MaxLength: the callers ran CheckFits
        // Each task owns row i of the result, so the order never depends on timing.
        await Parallel.ForAsync(0, count, ct, async (i, token) =>
        {
            var (bytes, name) = await read(i).ConfigureAwait(false);
            try
            {
                decoder.DecodeResized(bytes.Span, name, side, ResizeMode.Crop, pixels.AsSpan(i * dimension, dimension));
            }
            catch (ZetaPrepException e)
            {
                throw new ZetaPrepException($"{e.Message.TrimEnd('.')}; {wayOn}.", e);
            }
        }).ConfigureAwait(false);
        return pixels;
    }
}
