using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using TorchSharp;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Planning;
using ZetaPrep.Shards;
using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// Runs a generation: list → plan → validate/fingerprint inputs → per batch (decode, mix, encode) → shards → manifest.
/// Batches are processed ahead on worker threads but consumed in plan order, so bytes never depend on timing.
/// </summary>
public sealed class DatasetGenerator
{
    /// <summary>Rows per Parquet row group: whole batches up to this many rows (HF reads ≤ ~100 MB groups well).</summary>
    private const int MaxRowGroupRows = 100;

    private readonly IImageSource _source;
    private readonly IImageDecoder _decoder;

    public DatasetGenerator(IImageSource source, IImageDecoder decoder)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
    }

    public static string ToolVersion { get; } =
        typeof(DatasetGenerator).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public async Task<GenerationResult> RunAsync(GenerateOptions options, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var outDir = Path.GetFullPath(options.OutputDirectory);
        CheckOutputDirectory(outDir, options.Overwrite);

        var listing = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
        var plan = MixPlan.Create(listing.Items.Count, options.Plan);
        TorchRuntime.EnsureLoaded();
        var device = TorchRuntime.ResolveDevice(options.Device);
        var fingerprint = await ValidateAndFingerprintAsync(listing, options, cancellationToken).ConfigureAwait(false);

        // Nothing is written before this point: bad options and bad inputs leave the output untouched.
        PrepareOutputDirectory(outDir, options.Overwrite);
        var format = ShardFormats.Get(options.Format);
        var recorded = new GenerationOptionsRecord(
            _source.Description, options.Plan.N.ToString(), options.Plan.Gamma.ToString(), options.Plan.BatchSize,
            options.Plan.Passes, options.Plan.Seed, options.Plan.ShardRows, options.Size,
            options.Resize.ToString().ToLowerInvariant(), format.Name, options.Device.ToString().ToLowerInvariant(),
            options.Threads, options.MaxPixels);
        var schema = new ShardSchema(listing.ClassNames, GenerationJson(recorded, fingerprint, listing));
        var entries = new List<ShardEntry>();
        GenerationManifest Manifest(bool complete) => new()
        {
            Tool = new ToolInfo("zetaprep", ToolVersion),
            CommandLine = options.CommandLine,
            Options = recorded,
            Device = device.type == DeviceType.CUDA ? "cuda" : "cpu",
            Classes = listing.ClassNames,
            Input = new InputInfo(_source.Description, listing.Items.Count, fingerprint),
            Plan = new PlanInfo(plan.TotalRows, plan.Batches.Count, plan.Shards.Count),
            Shards = entries.ToList(),
            Totals = new Totals(entries.Sum(e => e.Rows), entries.Sum(e => e.Bytes)),
            Complete = complete,
            StartedUtc = started,
            WallTimeS = Math.Round(clock.Elapsed.TotalSeconds, 3),
        };
        var manifestPath = Path.Combine(outDir, GenerationManifest.FileName);
        Manifest(complete: false).WriteAtomically(manifestPath);

        using var mixers = new MixerPool(device, options.Plan.BatchSize, options.Size * options.Size * 3);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var context = new BatchContext(listing, options, mixers);
        // Capacity 1: at most ~3 batches in flight (one being written, one queued, one being produced) — bounded memory.
        var inflight = Channel.CreateBounded<Task<ShardRow[]>>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var batch in plan.Batches)
                {
                    var task = Task.Run(() => ProcessBatchAsync(batch, context, cts.Token), cts.Token);
                    await inflight.Writer.WriteAsync(task, cts.Token).ConfigureAwait(false);
                }
                inflight.Writer.TryComplete();
            }
            catch (Exception e)
            {
                inflight.Writer.TryComplete(e);
            }
        }, CancellationToken.None);

        long rowsDone = 0;
        try
        {
            foreach (var shard in plan.Shards)
            {
                var relative = format.ShardFileName(options.Split, shard.Index, shard.Count);
                var writer = await format.CreateWriterAsync(outDir, relative, schema, cts.Token).ConfigureAwait(false);
                await using (writer.ConfigureAwait(false))
                {
                    for (var b = 0; b < shard.BatchCount; b++)
                    {
                        var rows = await (await inflight.Reader.ReadAsync(cts.Token).ConfigureAwait(false)).ConfigureAwait(false);
                        for (var start = 0; start < rows.Length; start += MaxRowGroupRows)
                        {
                            var group = new ArraySegment<ShardRow>(rows, start, Math.Min(MaxRowGroupRows, rows.Length - start));
                            await writer.WriteRowGroupAsync(group, cts.Token).ConfigureAwait(false);
                        }
                        rowsDone += rows.Length;
                        progress?.Report(new GenerationProgress(rowsDone, plan.TotalRows, entries.Count, plan.Shards.Count, clock.Elapsed));
                    }
                    var info = await writer.CompleteAsync(cts.Token).ConfigureAwait(false);
                    entries.Add(new ShardEntry(relative, info.Rows, info.Bytes, info.Sha256Hex));
                }
                Manifest(complete: false).WriteAtomically(manifestPath);
            }
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            await DrainAsync(inflight.Reader, producer).ConfigureAwait(false);
            throw;
        }
        await producer.ConfigureAwait(false);
        await format.FinishAsync(outDir, entries.Select(e => e.File).ToList(), cancellationToken).ConfigureAwait(false);
        var final = Manifest(complete: true);
        DatasetCard.WriteAtomically(outDir, final);
        final.WriteAtomically(manifestPath);
        progress?.Report(new GenerationProgress(rowsDone, plan.TotalRows, entries.Count, plan.Shards.Count, clock.Elapsed));
        return new GenerationResult(final, manifestPath);
    }

    private async Task<ShardRow[]> ProcessBatchAsync(PlannedBatch batch, BatchContext context, CancellationToken cancellationToken)
    {
        var size = context.Options.Size;
        var pixels = size * size * 3;
        var m = batch.Inputs.Length;
        var x = ArrayPool<byte>.Shared.Rent(m * pixels);
        var y = ArrayPool<byte>.Shared.Rent(m * pixels);
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Options.Threads, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, m), parallel, async (i, ct) =>
            {
                var item = context.Listing.Items[batch.Inputs[i]];
                var bytes = await _source.ReadAsync(item, ct).ConfigureAwait(false);
                _decoder.DecodeResized(bytes, DisplayName(item), size, context.Options.Resize, x.AsSpan(i * pixels, pixels));
            }).ConfigureAwait(false);

            var weights = batch.WeightMatrix();
            var mixer = context.Mixers.Rent();
            try
            {
                mixer.Mix(x.AsSpan(0, m * pixels), m, weights, m, y.AsSpan(0, m * pixels));
            }
            finally
            {
                context.Mixers.Return(mixer);
            }

            var rows = new ShardRow[m];
            Parallel.For(0, m, parallel, k =>
            {
                var png = PngEncoder.Encode(y.AsSpan(k * pixels, pixels), size, size);
                rows[k] = BuildRow(batch, k, png, context.Listing);
            });
            return rows;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(x);
            ArrayPool<byte>.Shared.Return(y);
        }
    }

    private static ShardRow BuildRow(PlannedBatch batch, int k, byte[] png, SourceListing listing)
    {
        var recipe = batch.Outputs[k];
        var classes = listing.ClassNames.Count;
        var label = new double[classes];
        var one = new double[classes];
        var sources = new string[recipe.Members.Length];
        var weights = new float[recipe.Members.Length];
        for (var i = 0; i < recipe.Members.Length; i++)
        {
            var input = batch.Inputs[recipe.Members[i]];
            listing.WriteLabel(input, one);
            for (var c = 0; c < classes; c++)
            {
                label[c] += recipe.Weights[i] * one[c];
            }
            sources[i] = listing.Items[input].Id;
            weights[i] = (float)recipe.Weights[i];
        }
        var dominant = listing.Items[batch.Inputs[recipe.Dominant]].ClassIndex;
        var row = batch.FirstRow + k;
        return new ShardRow(
            png,
            row.ToString("D8", CultureInfo.InvariantCulture) + ".png",
            Array.ConvertAll(label, v => (float)v),
            dominant,
            sources,
            weights,
            (float)recipe.Gamma);
    }

    /// <summary>Reads every input once: checks its header (format, pixel limit) and hashes it for the fingerprint.</summary>
    private async Task<string> ValidateAndFingerprintAsync(SourceListing listing, GenerateOptions options, CancellationToken cancellationToken)
    {
        var hashes = new byte[listing.Items.Count][];
        var sizes = new long[listing.Items.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, listing.Items.Count), parallel, async (i, ct) =>
        {
            var item = listing.Items[i];
            var bytes = await _source.ReadAsync(item, ct).ConfigureAwait(false);
            var header = _decoder.ReadHeader(bytes, DisplayName(item));
            var pixelCount = (long)header.Width * header.Height;
            if (pixelCount > options.MaxPixels)
            {
                throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                    $"{DisplayName(item)}: {header.Width}×{header.Height} = {pixelCount:N0} pixels exceeds --max-pixels {options.MaxPixels:N0}; raise --max-pixels or remove the file."));
            }
            hashes[i] = SHA256.HashData(bytes);
            sizes[i] = bytes.Length;
        }).ConfigureAwait(false);
        return InputFingerprint.Compute(listing.Items.Select((item, i) => (item.Id, sizes[i], hashes[i])).ToList());
    }

    private string DisplayName(SourceItem item) => $"{_source.Description}/{item.Id}";

    /// <summary>Only the generation inputs that decide the bytes: no thread count, paths or clock, so reruns match.</summary>
    private static string GenerationJson(GenerationOptionsRecord o, string fingerprint, SourceListing listing) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["tool"] = "zetaprep " + ToolVersion,
            ["method"] = "zeta-mixup",
            ["n"] = o.N,
            ["gamma"] = o.Gamma,
            ["batch_size"] = o.BatchSize,
            ["passes"] = o.Passes,
            ["seed"] = o.Seed,
            ["size"] = o.Size,
            ["resize"] = o.Resize,
            ["classes"] = listing.ClassNames,
            ["input_count"] = listing.Items.Count,
            ["input_fingerprint"] = fingerprint,
        });

    private static void CheckOutputDirectory(string outDir, bool overwrite)
    {
        if (File.Exists(outDir))
        {
            throw ZetaPrepException.Usage($"--out {outDir}: is a file; give a directory (new or empty).");
        }
        if (!Directory.Exists(outDir) || !Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            return;
        }
        if (!File.Exists(Path.Combine(outDir, GenerationManifest.FileName)))
        {
            throw ZetaPrepException.Usage($"--out {outDir}: directory is not empty and holds no ZetaPrep manifest.json; choose a new or empty directory.");
        }
        if (!overwrite)
        {
            throw ZetaPrepException.Usage($"--out {outDir}: already holds a ZetaPrep output; pass --overwrite to replace it or choose another directory.");
        }
    }

    private static void PrepareOutputDirectory(string outDir, bool overwrite)
    {
        try
        {
            Directory.CreateDirectory(outDir);
            if (overwrite)
            {
                ShardFormats.DeleteOutputs(outDir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--out {outDir}: cannot write ({e.Message}); choose a writable directory.", e);
        }
    }

    private static async Task DrainAsync(ChannelReader<Task<ShardRow[]>> reader, Task producer)
    {
        // Observe every started batch so a failure in one does not leave others running or unobserved.
        try
        {
            await producer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        while (reader.TryRead(out var task))
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The first failure is already propagating; later ones are consequences of the cancellation.
            }
        }
    }

    private sealed record BatchContext(SourceListing Listing, GenerateOptions Options, MixerPool Mixers);

    /// <summary>One <see cref="TorchMixer"/> per concurrent batch: mixers hold preallocated tensors and are single-caller.</summary>
    private sealed class MixerPool(torch.Device device, int maxInputs, int pixels) : IDisposable
    {
        private readonly ConcurrentBag<TorchMixer> _free = [];
        private readonly ConcurrentBag<TorchMixer> _all = [];

        public TorchMixer Rent()
        {
            if (_free.TryTake(out var mixer))
            {
                return mixer;
            }
            mixer = new TorchMixer(device, maxInputs, pixels);
            _all.Add(mixer);
            return mixer;
        }

        public void Return(TorchMixer mixer) => _free.Add(mixer);

        public void Dispose()
        {
            foreach (var mixer in _all)
            {
                mixer.Dispose();
            }
        }
    }
}
