using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ZetaPrep.Imaging;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>
/// One epoch of training batches from shards: files in seeded order, rows through a seeded shuffle buffer,
/// batches decoded (and augmented) on worker threads ahead of the model through a bounded channel.
/// </summary>
/// <remarks>
/// Batch i is formed by the single reader before any parallel work and augmented with a generator seeded by
/// (seed, epoch, i), and batches are handed out in index order: the stream is identical at any thread count.
/// Memory is bounded by the shuffle buffer plus (workers + prefetch) batches.
/// </remarks>
internal sealed class ShardBatchStream
{
    private readonly IReadOnlyList<string> _files;
    private readonly Dictionary<string, ShardDirectory> _directoryOf;
    private readonly int _classes;
    private readonly IImageDecoder _decoder;
    private readonly int _size;
    private readonly int _batchSize;
    private readonly int _workers;
    private readonly int _shuffleBuffer;
    private readonly AugmentMode _augment;
    private readonly ulong _seed;

    private readonly long _rows;

    public ShardBatchStream(IReadOnlyList<string> files, IReadOnlyList<ShardDirectory> data, long rows, int classes, IImageDecoder decoder, int size, int batchSize, int workers, int shuffleBuffer, AugmentMode augment, ulong seed)
    {
        _files = files;
        _rows = rows;
        _directoryOf = data.SelectMany(d => d.Files.Select(f => (File: f, Directory: d))).ToDictionary(p => p.File, p => p.Directory, StringComparer.Ordinal);
        _classes = classes;
        _decoder = decoder;
        _size = size;
        _batchSize = batchSize;
        _workers = Math.Max(1, workers);
        _shuffleBuffer = Math.Max(batchSize, shuffleBuffer);
        _augment = augment;
        _seed = seed;
    }

    public async IAsyncEnumerable<TrainBatch> ReadEpochAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = cts.Token;
        var rows = Channel.CreateBounded<(long Index, List<SourcedRow> Rows)>(new BoundedChannelOptions(_workers) { FullMode = BoundedChannelFullMode.Wait, SingleWriter = true });
        var decoded = Channel.CreateBounded<TrainBatch>(new BoundedChannelOptions(_workers * 2) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

        var reader = Task.Run(() => ReadRowsAsync(epoch, rows.Writer, ct), ct);
        var workers = Enumerable.Range(0, _workers).Select(_ => Task.Run(async () =>
        {
            try
            {
                await DecodeAsync(epoch, rows.Reader, decoded.Writer, ct).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Fail the whole epoch at once: the reader would otherwise wait forever on a full channel.
                decoded.Writer.TryComplete(ex);
                await cts.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, ct)).ToArray();
        var all = Task.WhenAll(workers.Append(reader));
        _ = all.ContinueWith(t => decoded.Writer.TryComplete(t.Exception?.GetBaseException()), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var pending = new Dictionary<long, TrainBatch>();
        long next = 0;
        try
        {
            await foreach (var batch in decoded.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                pending.Add(batch.Index, batch);
                while (pending.Remove(next, out var ready))
                {
                    next++;
                    yield return ready;
                }
            }

            await all.ConfigureAwait(false);
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await all.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Stopped early or failed: the failure already reached the consumer through the channel.
            }
        }
    }

    private async Task ReadRowsAsync(int epoch, ChannelWriter<(long, List<SourcedRow>)> writer, CancellationToken ct)
    {
        try
        {
            var random = new Random(Seed(epoch, -1));
            var order = _files.ToArray();
            random.Shuffle(order);
            // Never more rows than the epoch has: --shuffle-buffer 2147483647 (a full shuffle) had asked for a 16 GiB list.
            var buffer = new List<SourcedRow>((int)Math.Min(_shuffleBuffer, Math.Max(1, _rows)));
            var batch = new List<SourcedRow>(_batchSize);
            long index = 0;
            var steps = StepsPerEpoch(_rows, _batchSize);
            foreach (var file in order)
            {
                await foreach (var row in _directoryOf[file].ReadRowsAsync(file, ct).ConfigureAwait(false))
                {
                    buffer.Add(new SourcedRow(row, file));
                    if (buffer.Count >= _shuffleBuffer)
                    {
                        batch.Add(TakeRandom(buffer, random));
                        if (batch.Count == BatchRows(index, _rows, steps))
                        {
                            await writer.WriteAsync((index++, batch), ct).ConfigureAwait(false);
                            batch = new List<SourcedRow>(_batchSize);
                        }
                    }
                }
            }

            while (buffer.Count > 0)
            {
                batch.Add(TakeRandom(buffer, random));
                if (batch.Count == BatchRows(index, _rows, steps))
                {
                    await writer.WriteAsync((index++, batch), ct).ConfigureAwait(false);
                    batch = new List<SourcedRow>(_batchSize);
                }
            }

            // Rows beyond the recorded count (the Parquet footers', or manifest.json's for other formats) would still train, in a last short batch.
            if (batch.Count > 0)
            {
                await writer.WriteAsync((index, batch), ct).ConfigureAwait(false);
            }

            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }

    private async Task DecodeAsync(int epoch, ChannelReader<(long Index, List<SourcedRow> Rows)> reader, ChannelWriter<TrainBatch> writer, CancellationToken ct)
    {
        var pixelsPerImage = _size * _size * 3;
        var scratch = _augment == AugmentMode.None ? null : new byte[pixelsPerImage];
        await foreach (var (index, rows) in reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var random = new Random(Seed(epoch, index));
            var pixels = new byte[rows.Count * pixelsPerImage];
            var labels = new float[rows.Count * _classes];
            for (int i = 0; i < rows.Count; i++)
            {
                var (row, file) = rows[i];
                try
                {
                    if (row.Label.Length != _classes)
                    {
                        throw new ZetaPrepException($"row '{row.ImagePath}' has a {row.Label.Length}-class label; the shards declare {_classes} classes. Regenerate the dataset.");
                    }

                    var target = pixels.AsSpan(i * pixelsPerImage, pixelsPerImage);
                    if (scratch is null)
                    {
                        _decoder.DecodeResized(row.ImageBytes.Span, row.ImagePath, _size, ResizeMode.Crop, target);
                    }
                    else
                    {
                        _decoder.DecodeResized(row.ImageBytes.Span, row.ImagePath, _size, ResizeMode.Crop, scratch);
                        ImageAugmenter.Apply(scratch, target, _size, random);
                    }
                }
                catch (ZetaPrepException e)
                {
                    throw Damaged(file, e);
                }

                row.Label.CopyTo(labels.AsSpan(i * _classes, _classes));
            }

            await writer.WriteAsync(new TrainBatch(index, rows.Count, pixels, labels), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Training steps per epoch over <paramref name="rows"/> rows: ⌈rows / batch size⌉, but at most ⌊rows / 2⌋ so
    /// that every step holds at least two rows. Only --batch-size 2 on an odd row count is affected: one step then
    /// holds three rows (201 rows: 99 steps of 2 and one of 3).
    /// </summary>
    public static long StepsPerEpoch(long rows, int batchSize) => Math.Max(1, Math.Min((rows + batchSize - 1) / batchSize, rows / 2));

    /// <summary>
    /// Rows of batch <paramref name="index"/>: the epoch's rows spread evenly over its steps (sizes differ by at most
    /// one; none above the batch size, except the one step of three for --batch-size 2 on an odd row count). A lone
    /// leftover image (3 rows in batches of 2: 2 + 1) would make BatchNorm normalise one value per channel where the
    /// feature map is 1×1 (images under 64 pixels): the running variance becomes NaN and the epoch ends with NaN weights.
    /// </summary>
    internal static int BatchRows(long index, long rows, long steps)
    {
        var (quotient, remainder) = Math.DivRem(rows, steps);
        return (int)(quotient + (index < remainder ? 1 : 0));
    }

    /// <summary>A bad row, named with its shard and the --data directory it came from, and the way to find the damage.</summary>
    private ZetaPrepException Damaged(string file, ZetaPrepException e)
    {
        var data = _directoryOf.GetValueOrDefault(file);
        var dir = data?.Path ?? System.IO.Path.GetDirectoryName(file) ?? file;
        // verify checks an output against its manifest.json: loose Parquet shards have none, and verify refuses them.
        var way = data is { ManifestSha256: null }
            ? "copy the shard again from its 'zetaprep generate' output, or generate it again ('zetaprep verify' needs the output's manifest.json, which this directory lacks)"
            : $"check the directory with 'zetaprep verify {dir}' and regenerate it (or the damaged shard)";
        return new ZetaPrepException($"--data {dir}: shard {System.IO.Path.GetRelativePath(dir, file)}: {e.Message.TrimEnd('.')}; {way}.", e);
    }

    private static SourcedRow TakeRandom(List<SourcedRow> buffer, Random random)
    {
        // Swap-remove: O(1), and the order left behind is still a pure function of the seed.
        int k = random.Next(buffer.Count);
        var row = buffer[k];
        buffer[k] = buffer[^1];
        buffer.RemoveAt(buffer.Count - 1);
        return row;
    }

    /// <summary>A row and the shard file it was read from (for error messages).</summary>
    private readonly record struct SourcedRow(ShardRow Row, string File);

    // Not HashCode.Combine: it is randomised per process, and the stream must repeat across runs (--resume).
    private int Seed(int epoch, long batch) =>
        unchecked((int)(((_seed + 1) * 0x9E3779B97F4A7C15UL) ^ ((ulong)epoch * 0xD1B54A32D192ED03UL) ^ ((ulong)(batch + 2) * 0xBF58476D1CE4E5B9UL) >> 17));
}
