using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Threading.Channels;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;
using ZetaPrep.Planning;
using ZetaPrep.Shards;
using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// Runs a generation: list → validate/fingerprint inputs → plan → per batch (decode, mix, encode) → shards → manifest.
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

    /// <summary>Where validation verdicts are kept between runs over unchanged inputs (null: never).</summary>
    internal ValidationCache? VerdictCache { get; init; } = ValidationCache.FromEnvironment();

    /// <summary>What large PNG decodes hold at once, over the validation pass's and the batches' threads.</summary>
    private DecodeMemoryGate _memoryGate = new();

    // First-generation collections where little is alive (Nursery), in the validation pass and between batches.
    private readonly Nursery _nursery = new();

    /// <summary>Per-stage time of the last run (for --profile).</summary>
    public StageTimes Times { get; } = new();

    /// <summary>
    /// <c>generate --validate-only</c>: lists and checks every input as a run would (its validation pass) and leaves the
    /// verdicts in the output directory, so that the runs that follow there with <c>--resume</c> (a job array's workers)
    /// skip the pass. Writes nothing else; a bad input (with <c>--on-error fail</c>) writes nothing at all.
    /// </summary>
    public async Task<ValidationSummary> ValidateOnlyAsync(GenerateOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _memoryGate = new DecodeMemoryGate(options.DecodeBudget);
        var outDir = Path.GetFullPath(options.OutputDirectory);
        OutputDirectory.RefuseFile(outDir);
        if (OutputDirectory.ExistingFiles(outDir).FirstOrDefault(f => !OutputDirectory.IsGeneratedFile(f)) is { } foreign)
        {
            throw ZetaPrepException.Usage($"--out {outDir}: holds {foreign}, which is not a ZetaPrep output; choose a new or empty directory.");
        }
        var listed = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
        RefuseControlCharacters(listed.ClassNames, _source.Description);
        // The plan's checks (too few inputs for --n, batches too large) fail here too, before the array is submitted.
        var listedPlan = ListedPlan(listed.Items.Count, options);
        var recordKey = ValidationRecord.Key(ToolVersion, options.Codec, options.MaxPixels, options.OnError);
        var validated = await ValidateOrReuseAsync(listed, options, recordKey, null, retain: false, scanJpegs: false, cancellationToken).ConfigureAwait(false);
        var plan = KeptPlan(listedPlan, validated.Listing.Items.Count, options);
        try
        {
            Directory.CreateDirectory(outDir);
            ValidationRecord.Write(outDir, recordKey, validated.Entries!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--out {outDir}: cannot write {ValidationRecord.FileName} ({e.Message.TrimEnd('.')}); choose a writable directory.", e);
        }
        return new ValidationSummary(listed.Items.Count, validated.Skipped.Count, validated.Fingerprint, ValidationRecord.PathIn(outDir),
            plan.TotalRows, plan.Batches.Count, plan.Shards.Count);
    }

    /// <summary>The options a run with <paramref name="options"/> over the input <paramref name="inputDescription"/> records in its manifest (and compares on resume).</summary>
    public static GenerationOptionsRecord RecordedOptions(GenerateOptions options, string inputDescription)
    {
        ArgumentNullException.ThrowIfNull(options);
        var method = options.Plan.Method;
        return new GenerationOptionsRecord(
            inputDescription, options.Plan.N.ToString(), options.Plan.Gamma.ToString(), options.Plan.BatchSize,
            options.Plan.Passes, options.Plan.Seed, options.Plan.ShardRows, options.Size,
            options.Resize.ToString().ToLowerInvariant(), ShardFormats.Get(options.Format).Name, options.Device.ToString().ToLowerInvariant(),
            options.Threads, options.MaxPixels, options.OnError.ToString().ToLowerInvariant(), options.Plan.KeepOriginals, options.ShardBytes,
            method.Name, method.ResolvedAlpha, method.LabelSmoothing, method.Prob, method.ResolvedSwitchProb, options.Codec, options.PngLevel);
    }

    public async Task<GenerationResult> RunAsync(GenerateOptions options, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _memoryGate = new DecodeMemoryGate(options.DecodeBudget);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        Times.Mark(StageTimes.Phase.Start);
        var outDir = Path.GetFullPath(options.OutputDirectory);
        var manifestPath = Path.Combine(outDir, options.Worker?.ManifestFileName ?? GenerationManifest.FileName);
        if (_source is ImageFolderSource folder && outDir != folder.Description && RealPath.IsWithin(outDir, folder.Description))
        {
            // The listing walks every folder below --in: a later run would take the generated images for a class of inputs,
            // and --overwrite would delete them after the validation pass had read them. Symbolic links resolved: --in or
            // --out named through a link to (or into) the other was not caught before.
            throw ZetaPrepException.Usage($"--out {outDir}: is inside --in {folder.Description}{(outDir.StartsWith(folder.Description + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? "" : " (through a symbolic link)")}, so a later run would read the generated images as inputs; choose a directory outside --in.");
        }
        var previous = OutputDirectory.Check(outDir, manifestPath, options);
        var manifestAtStart = OutputDirectory.ManifestBytes(manifestPath);
        // --overwrite removes the output there before the first shard: an input the batches would refuse must stop the
        // run in the validation pass, before that, or the run leaves neither output (the JPEG scan check below).
        var replacing = options.Overwrite && OutputDirectory.ExistingFiles(outDir).Count > 0;

        var listed = await _source.ListAsync(cancellationToken).ConfigureAwait(false);
        RefuseControlCharacters(listed.ClassNames, _source.Description);
        Times.Mark(StageTimes.Phase.Listed);
        // The archives and label file are hashed for the manifest beside the validation pass and the batches.
        using var provenance = new ProvenanceHash(listed.Provenance, cancellationToken);
        var pixelsPerImage = options.Size * options.Size * 3;
        var pngSlot = PngSlot(options);
        var listedPlan = ListedPlan(listed.Items.Count, options);
        static ZetaPrepException NoCuda(string why) =>
            ZetaPrepException.Usage($"--device cuda: CUDA cannot be used here: {why}; use --device cpu or --device auto");
        if (options.Device == DeviceChoice.Cuda && !CudaMixer.IsAvailable(out var noCuda))
        {
            // Before the validation pass, which can take minutes on a large input.
            throw NoCuda(noCuda);
        }
        // Mixing runs on our own kernels: SparseCpuMixer on the CPU, CudaMixer through the NVIDIA driver alone (no libtorch).
        // The driver is opened and the kernel compiled (~0.5 s on an H100) in parallel with the validation pass; with
        // --device auto the first batches mix on the CPU (same bytes) if it is not done by then.
        Times.GpuLeftClosed = options.Device == DeviceChoice.Auto && !GpuWorthOpening(listedPlan, options);
        var cudaReady = options.Device == DeviceChoice.Cpu || Times.GpuLeftClosed
            ? Task.FromResult<CudaMixer?>(null)
            : Task.Run(() =>
        {
            var mixer = CudaMixer.TryCreate(MostBatchInputs(options), pixelsPerImage, out var why);
            if (mixer is null && options.Device == DeviceChoice.Cuda)
            {
                throw NoCuda(why);
            }
            return mixer;
        }, cancellationToken);
        ValidatedInputs validated;
        var recordKey = ValidationRecord.Key(ToolVersion, options.Codec, options.MaxPixels, options.OnError);
        try
        {
            validated = await ValidateOrReuseAsync(listed, options, recordKey, options.Resume ? outDir : null, retain: true, scanJpegs: replacing, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ObserveAsync(cudaReady).ConfigureAwait(false);
            if (cudaReady.IsCompletedSuccessfully)
            {
                cudaReady.Result?.Dispose();
            }
            throw;
        }
        Times.Mark(StageTimes.Phase.Validated);
        if (options.Device == DeviceChoice.Cuda)
        {
            // Asked for the GPU: every batch mixes there, and a failure (kernel JIT, memory) stops the run before any shard.
            await cudaReady.ConfigureAwait(false);
        }
        var (listing, fingerprint, skipped) = validated;
        var plan = KeptPlan(listedPlan, listing.Items.Count, options);
        var format = ShardFormats.Get(options.Format);
        var recorded = RecordedOptions(options, _source.Description);
        var input = new InputInfo(_source.Description, listing.Items.Count, fingerprint)
        {
            Preset = listing.Provenance?.Preset,
            Split = listing.Provenance?.Split,
            Licence = listing.Provenance?.Preset is { } preset ? DatasetPresets.Find(preset)?.Licence : null,
            // What SourceResolver.Reopen needs to open the input again as this run did (preview reads sources through it).
            Labels = listing.Provenance?.LabelFile,
            IdColumn = listing.Provenance?.IdColumn,
            LabelColumn = listing.Provenance?.LabelColumn,
            Exclude = listing.Provenance is { Exclude.Count: > 0 } p ? p.Exclude : null,
            ExcludeDuplicates = listing.Provenance is { ExcludeDuplicates: true } ? true : null,
        };
        if (previous is not null)
        {
            OutputDirectory.CheckResumable(previous, recorded, input, manifestPath);
        }

        // Nothing is written before this point: bad options and bad inputs leave the output untouched.
        var owned = plan.Shards.Where(s => options.Worker?.Owns(s.Index) ?? true).ToList();
        using var outputLock = OutputDirectory.Lock(outDir, options.Worker, previous);
        if (!OutputDirectory.ManifestBytes(manifestPath).AsSpan().SequenceEqual(manifestAtStart))
        {
            // Another run wrote here while this one listed and validated its inputs (it has ended: the lock was free).
            throw new ZetaPrepException($"--out {outDir}: another zetaprep run changed {Path.GetFileName(manifestPath)} while this one was reading its inputs, and nothing of this run was written; run the command again to see what the output holds now.");
        }
        OutputDirectory.Prepare(outDir, options, format, owned);
        var entries = new SortedDictionary<string, ShardEntry>(StringComparer.Ordinal);
        if (previous is not null)
        {
            var ownedFiles = owned.Select(s => format.ShardFileName(options.Split, s.Index, s.Count)).ToHashSet(StringComparer.Ordinal);
            foreach (var entry in previous.Shards.Where(e => ownedFiles.Contains(e.File)))
            {
                // A listed shard is kept only if its bytes are still the ones recorded; a damaged one is redone.
                if (await ShardFileCheck.ProblemAsync(outDir, entry, format, cancellationToken).ConfigureAwait(false) is null)
                {
                    entries[entry.File] = entry;
                }
            }
        }
        var todo = owned.Where(s => !entries.ContainsKey(format.ShardFileName(options.Split, s.Index, s.Count))).ToList();
        // A finished output resumed with every shard intact: its manifest is kept byte for byte (its times included), so
        // such a resume (`compare` makes one before each training run) changes nothing that train --resume compares.
        var unchanged = previous is { Complete: true } && todo.Count == 0;
        var ownedRows = owned.Sum(s => (long)s.Rows);

        var schema = new ShardSchema(listing.ClassNames, GenerationMetadata.Json(GenerationMetadata.Fields(ToolVersion, recorded, listing.ClassNames, listing.Items.Count, fingerprint)));
        // Batches mix on the CPU until the CUDA probe (running since before validation) is done: same bytes either way.
        using var mixers = new MixerPool(cudaReady, MostBatchInputs(options), pixelsPerImage);
        IReadOnlyList<InputFile>? inputFiles = null;
        GenerationManifest Manifest(bool complete) => new()
        {
            Tool = new ToolInfo("zetaprep", ToolVersion),
            CommandLine = options.CommandLine,
            Options = recorded,
            Device = mixers.UsedCuda ? "cuda" : "cpu",
            Classes = listing.ClassNames,
            // The input files' hashes once known: a manifest written while they are being hashed leaves them out.
            Input = input with { Files = complete ? inputFiles : provenance.FilesIfDone },
            Skipped = skipped,
            Plan = new PlanInfo(plan.TotalRows, plan.Batches.Count, plan.Shards.Count),
            Shards = entries.Values.ToList(),
            Totals = new Totals(entries.Values.Sum(e => e.Rows), entries.Values.Sum(e => e.Bytes)),
            Complete = complete,
            StartedUtc = started,
            WallTimeS = Math.Round(clock.Elapsed.TotalSeconds, 3),
            Worker = options.Worker is { } w ? new WorkerInfo(w.Index, w.Count) : null,
        };
        // The manifest that says "incomplete" (then the validation record) goes to disk while the first batches decode
        // and go into the first shard's temporary file: its fsync waits for the file system's journal, ~20 ms on an idle
        // disk and 0.2 s after another program wrote a few hundred MB (docs/BENCHMARKS.md), time the CPUs spent idle
        // when it came first. The writer waits for it before it completes (renames into place) the first shard, so no
        // shard of this run is there before the manifest saying that the output is incomplete.
        var startManifest = unchanged ? null : Manifest(complete: false);
        var verdicts = validated.Entries;
        validated = validated with { Entries = null }; // ~100 bytes per input, not needed for the rest of the run
        var startWrite = Task.Run(() =>
        {
            startManifest?.WriteAtomically(manifestPath);
            if (verdicts is not null)
            {
                ValidationRecord.TryWrite(outDir, recordKey, verdicts);
            }
        }, CancellationToken.None);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var grace = new CancelGraceClock(cts.Token);
        // All decode, mix and encode work of all batches in flight shares --threads threads, so --threads is the real CPU
        // parallelism (batches overlap without oversubscribing the cores), earliest batch first.
        using var workers = new BatchWorkers(options.Threads);
        var context = new BatchContext(listing, options, mixers, workers,
            new BufferPool(plan.MaxBatchInputs * pixelsPerImage),
            pngSlot > 0 ? new BufferPool(plan.MaxBatchRows * pngSlot) : null,
            pngSlot, validated.ExpectedSha256, validated.Retained, FreshOutput: previous is null);
        // The listing and the validation pass leave their garbage (a few KB per input) in the first generation.
        _nursery.CollectIfFull();
        // Batches queued ahead of the writer, bounded by their buffers' bytes (BatchesAhead): for 224² photos one (~3 in
        // flight: one being written, one queued, one being produced), for small images up to 64.
        var inflight = Channel.CreateBounded<Task<FinishedBatch>>(new BoundedChannelOptions(BatchesAhead(plan, options))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        var producer = Task.Run(async () =>
        {
            Task<FinishedBatch>? started = null;
            try
            {
                // Only the batches of shards still to write: finished shards and other workers' shards are never decoded.
                var sequence = 0L;
                foreach (var batch in todo.SelectMany(s => Enumerable.Range(s.FirstBatch, s.BatchCount).Select(b => plan.Batches[b])))
                {
                    var job = new BatchJob(this, batch, sequence++, context, cts.Token);
                    job.Start();
                    started = job.Task;
                    await inflight.Writer.WriteAsync(job.Task, cts.Token).ConfigureAwait(false);
                    started = null;
                }
                inflight.Writer.TryComplete();
            }
            catch (Exception e)
            {
                if (started is not null)
                {
                    // Started but never handed to the writer (the run was cancelled meanwhile): DrainAsync cannot see it.
                    Observe(started);
                }
                inflight.Writer.TryComplete(e);
            }
        }, CancellationToken.None);

        var rowsDone = entries.Values.Sum(e => e.Rows);
        // One dedicated thread writes every shard, blocking on each batch and write. Parquet.Net copies each column
        // chunk into a buffer rented from ArrayPool.Shared (4 MiB for a batch of 224² PNGs), and a thread that returns
        // one keeps it in a thread-local cache no other thread can rent from: written from whichever pool thread
        // resumed the loop, a 4000-photo run had left 5 such buffers (20 MiB) behind, a 400-photo run 2. The shard
        // streams complete their writes inline (HashingWriteStream), so every rent and return happens on this thread.
        void WaitForStartManifest() => startWrite.GetAwaiter().GetResult();

        void WriteShards()
        {
            foreach (var shard in todo)
            {
                var relative = format.ShardFileName(options.Split, shard.Index, shard.Count);
                var writer = format.CreateWriterAsync(outDir, relative, schema, cts.Token).GetAwaiter().GetResult();
                try
                {
                    for (var b = 0; b < shard.BatchCount; b++)
                    {
                        var waitStart = Stopwatch.GetTimestamp();
                        var batchTask = inflight.Reader.ReadAsync(cts.Token).AsTask().GetAwaiter().GetResult();
                        if (b == shard.BatchCount - 1 && b > 0 && !batchTask.IsCompleted)
                        {
                            // Idle until the shard's last batch is done: the disk commits the rest of the shard meanwhile,
                            // and the fsync that completes it waits for that batch's bytes alone.
                            writer.StartDataSync();
                        }
                        var (rows, finishedAt, encoded) = WaitOrAbandonAsync(batchTask, grace).GetAwaiter().GetResult();
                        var writeStart = Stopwatch.GetTimestamp();
                        Times.Mark(StageTimes.Phase.FirstBatchReady);
                        // A batch that finished before the writer came for it waited on the writer (disk/Parquet).
                        Times.Add(StageTimes.Stage.ReadyUnwritten, Math.Max(0, writeStart - finishedAt));
                        Times.Add(StageTimes.Stage.WaitForBatch, writeStart - waitStart);
                        for (var start = 0; start < rows.Length; start += MaxRowGroupRows)
                        {
                            var group = new ArraySegment<ShardRow>(rows, start, Math.Min(MaxRowGroupRows, rows.Length - start));
                            writer.WriteRowGroupAsync(group, cts.Token).GetAwaiter().GetResult();
                        }
                        Times.Add(StageTimes.Stage.Write, Stopwatch.GetTimestamp() - writeStart, rows.Length);
                        if (encoded is not null)
                        {
                            // Writers read image bytes only while writing (ShardRow): the buffer is free for the next batch.
                            context.Encoded!.Return(encoded);
                        }
                        _nursery.CollectIfFull();
                        rowsDone += rows.Length;
                        progress?.Report(new GenerationProgress(rowsDone, ownedRows, entries.Count, owned.Count, clock.Elapsed));
                    }
                    if (ReferenceEquals(shard, todo[^1]))
                    {
                        Times.Mark(StageTimes.Phase.BatchesWritten);
                    }
                    WaitForStartManifest();
                    var info = writer.CompleteAsync(cts.Token).GetAwaiter().GetResult();
                    entries[relative] = new ShardEntry(relative, info.Rows, info.Bytes, info.Sha256Hex);
                }
                finally
                {
                    writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
                Manifest(complete: false).WriteAtomically(manifestPath);
            }

            WaitForStartManifest();
        }
        try
        {
            await Task.Factory.StartNew(WriteShards, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await cts.CancelAsync().ConfigureAwait(false);
            await DrainAsync(inflight.Reader, producer, grace).ConfigureAwait(false);
            // The start manifest's write ends before the run does, whatever failed (it leaves no temporary file behind).
            await startWrite.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            // Without that manifest nothing of this run is kept or resumable (a read-only or full --out fails there, and
            // the first shard's temporary file with it). Sources wrap their own read errors, so another I/O error here
            // is the output's (disk full, permissions): finished shards are kept for --resume.
            var startFailed = startWrite.Exception?.InnerException is IOException or UnauthorizedAccessException ? startWrite.Exception.InnerException : null;
            if (context.StoppedByInput && context.FreshOutput)
            {
                OutputDirectory.RemoveStoppedRun(outDir, options, owned, manifestPath);
            }
            throw startFailed is not null ? OutputDirectory.CannotWrite(outDir, previous, startFailed)
                : e is IOException or UnauthorizedAccessException ? OutputDirectory.WriteFailed(outDir, e, options.Overwrite) : e;
        }
        await producer.ConfigureAwait(false);
        CheckWatchedInputs(validated.Watch, options.Threads, cancellationToken);
        Times.RecordBuffers(context.Pixels.Created, context.Pixels.Length, context.Encoded?.Created ?? 0, context.Encoded?.Length ?? 0);
        inputFiles = await provenance.WaitAsync(Times).ConfigureAwait(false);
        var final = unchanged ? previous! : Manifest(complete: true);
        if (options.Worker is null)
        {
            // Dataset-level files (wids index, labels table, card) describe every shard: a worker leaves them to `merge`.
            // Written again on every resume, so a resume repairs one deleted or edited.
            try
            {
                await format.FinishAsync(outDir, entries.Keys.ToList(), cancellationToken).ConfigureAwait(false);
                DatasetCard.WriteAtomically(outDir, final);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputDirectory.WriteFailed(outDir, e, options.Overwrite, shardsDone: true);
            }
        }
        if (!unchanged)
        {
            OutputDirectory.WriteManifest(final, manifestPath, outDir, options.Overwrite);
        }
        if (options.Worker is null)
        {
            // Complete: nothing left to resume. Workers leave it to the others; merge removes it.
            ValidationRecord.TryDelete(outDir);
        }
        Times.Mark(StageTimes.Phase.Done);
        progress?.Report(new GenerationProgress(rowsDone, ownedRows, entries.Count, owned.Count, clock.Elapsed));
        return new GenerationResult(final, manifestPath) { Notes = ListingNotes(listed, _source.Description), NothingToDo = unchanged };
    }

    /// <summary>
    /// One batch's work on the <see cref="BatchWorkers"/>, in three steps each posted at the batch's place in the plan:
    /// its inputs read and decoded (a work item per input, or per few inputs where files are small), then the mix,
    /// then its rows encoded (an item per row, or per few small ones). The last item of a step posts the next; the
    /// last encode completes <see cref="Task"/>. A failure or cancellation skips what is left and, once no item of the
    /// step is running, returns the batch's buffers and faults the task with the first exception.
    /// </summary>
    private sealed class BatchJob
    {
        /// <summary>Input bytes (decode) or output pixel bytes (encode) a work item takes on at least, where items are small.</summary>
        private const int ItemBytes = 64 << 10;

        private readonly DatasetGenerator _generator;
        private readonly PlannedBatch _batch;
        private readonly long _sequence;
        private readonly BatchContext _context;
        private readonly CancellationToken _cancellationToken;
        private readonly TaskCompletionSource<FinishedBatch> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly int _pixels;
        private IBatchMixer? _mixer;
        private byte[]? _x;
        private byte[]? _y;
        private byte[]? _encoded;
        private ShardRow[] _rows = [];
        private int _pending;
        private Exception? _error;

        public BatchJob(DatasetGenerator generator, PlannedBatch batch, long sequence, BatchContext context, CancellationToken cancellationToken)
        {
            _generator = generator;
            _batch = batch;
            _sequence = sequence;
            _context = context;
            _cancellationToken = cancellationToken;
            _pixels = context.Options.Size * context.Options.Size * 3;
        }

        public Task<FinishedBatch> Task => _done.Task;

        public void Start()
        {
            try
            {
                _cancellationToken.ThrowIfCancellationRequested();
                // The batch's mixer from the start: the CUDA one's page-locked buffers are decoded into and encoded from directly.
                _mixer = _context.Mixers.Rent();
                var staging = _mixer.Staging;
                _x = staging?.Inputs ?? _context.Pixels.Rent();
                // The outputs replace the inputs unless the batch still needs them after the mix (kept originals, CutMix boxes).
                var inPlace = staging is null && _mixer.MixesInPlace && _batch.MixedOffset == 0 && _batch.Outputs.All(o => o.Box is null);
                _y = staging?.Outputs ?? (inPlace ? _x : _context.Pixels.Rent());
            }
            catch (Exception e)
            {
                _error = e;
                End();
                return;
            }
            var inputs = _batch.Inputs;
            var fileBytes = 0L;
            foreach (var input in inputs)
            {
                fileBytes += _context.Listing.Items[input].Size;
            }
            Step(inputs.Length, PerItem(inputs.Length, fileBytes / inputs.Length), Decode, () => Post(Mix));
        }

        /// <summary>Items of at least <see cref="ItemBytes"/> each, but never fewer items than threads.</summary>
        private int PerItem(int count, long bytesEach) =>
            (int)Math.Clamp(ItemBytes / Math.Max(1, bytesEach), 1, Math.Max(1, count / _context.Workers.Count));

        private void Post(Action work) => _context.Workers.Post(_sequence, work);

        /// <summary>Posts <paramref name="body"/> over [0, count) in items of <paramref name="per"/>; the last to end runs <paramref name="next"/>.</summary>
        private void Step(int count, int per, Action<int, int> body, Action next)
        {
            var items = (count + per - 1) / per;
            if (items == 0)
            {
                Post(next);
                return;
            }
            _pending = items;
            for (var item = 0; item < items; item++)
            {
                var start = item * per;
                var end = Math.Min(count, start + per);
                Post(() =>
                {
                    if (Volatile.Read(ref _error) is null)
                    {
                        Run(() => body(start, end));
                    }
                    if (Interlocked.Decrement(ref _pending) == 0)
                    {
                        if (Volatile.Read(ref _error) is null)
                        {
                            next();
                        }
                        else
                        {
                            End();
                        }
                    }
                });
            }
        }

        /// <summary>Runs <paramref name="work"/> unless the run is cancelled; records the first failure.</summary>
        private void Run(Action work)
        {
            try
            {
                _cancellationToken.ThrowIfCancellationRequested();
                work();
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
        }

        private void Decode(int start, int end)
        {
            var size = _context.Options.Size;
            for (var i = start; i < end; i++)
            {
                var input = _batch.Inputs[i];
                var item = _context.Listing.Items[input];
                var target = _x.AsSpan(i * _pixels, _pixels);
                var t0 = Stopwatch.GetTimestamp();
                if (_context.Retained is { } retained && retained.TryGet(input, out var kept))
                {
                    DecodeMidRun(kept.Span, item, size, target);
                    _generator.Times.Add(StageTimes.Stage.Decode, Stopwatch.GetTimestamp() - t0);
                    continue;
                }
                // The built-in sources read synchronously; another source's read blocks this worker (no deadlock: its
                // continuation runs on the thread pool).
                var read = _generator._source.ReadPooledAsync(item, _cancellationToken);
                using var bytes = read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
                if (_context.ExpectedSha256 is { } expected)
                {
                    _generator.CheckUnchanged(bytes.Span, expected[input], item);
                }
                else if (_context.Retained?.UnkeptHash(input) is { } passHash)
                {
                    // Room was set aside but the file no longer had its listed size: changed, so not watched either.
                    _generator.CheckUnchanged(bytes.Span, passHash, item);
                }
                var t1 = Stopwatch.GetTimestamp();
                DecodeMidRun(bytes.Span, item, size, target);
                _generator.Times.Add(StageTimes.Stage.Read, t1 - t0);
                _generator.Times.Add(StageTimes.Stage.Decode, Stopwatch.GetTimestamp() - t1);
            }
        }

        /// <summary>
        /// Decodes an input the validation pass let through, but its decoder refuses (a JPEG whose scans stop early, left to
        /// TurboJPEG's own decode): shards are written by now, and the way on is not the pass's.
        /// </summary>
        private void DecodeMidRun(ReadOnlySpan<byte> encoded, SourceItem item, int size, Span<byte> target)
        {
            try
            {
                _generator.DecodeInput(encoded, item, size, _context.Options.Resize, target);
            }
            catch (ZetaPrepException e) when (e.ExitCode == 1)
            {
                // The file's fingerprint is in this output's record: with it removed or replaced, --resume refuses the
                // changed input (and --on-error skip is another option), so only --overwrite goes on from here.
                var verdict = e.Message.IndexOf("; ", StringComparison.Ordinal) is var cut and > 0 ? e.Message[..cut] : e.Message.TrimEnd('.');
                _context.StoppedByInput = true;
                // A fresh output is removed as the run stops (RemoveStoppedRun): nothing half-written stays behind.
                throw new ZetaPrepException(_context.FreshOutput
                    ? $"{verdict}; the run stopped there and removed the shards it had written, from which no run could go on: remove or replace the file and run the command again (adding --on-error skip leaves such files out)."
                    : $"{verdict}; the shards written so far are kept but cannot be resumed past it: remove or replace the file and rerun with --overwrite in place of --resume (adding --on-error skip leaves such files out).", e);
            }
        }

        private void Mix()
        {
            Run(() =>
            {
                var m = _batch.Inputs.Length;
                var weights = _batch.PixelWeightMatrix();
                var mixStart = Stopwatch.GetTimestamp();
                try
                {
                    _mixer!.Mix(_x.AsSpan(0, m * _pixels), m, weights, m, _y.AsSpan(0, m * _pixels));
                }
                catch (CudaException e)
                {
                    // A GPU fault mid-run (memory, a reset device): one line and the way on, not a stack trace.
                    throw new ZetaPrepException($"mixing on the GPU failed: {e.Message}; the shards already written are complete: "
                        + $"rerun the command with --resume{(_context.Options.Overwrite ? " in place of --overwrite" : "")}, adding --device cpu to mix on the CPU (same bytes)", e);
                }
                if (_mixer is CudaMixer cuda)
                {
                    _generator.Times.CountCudaBatch(cuda.Kernel);
                }
                PasteCutMixBoxes(_batch, _x!, _y!, _pixels, _context.Options.Size);
                _generator.Times.Add(StageTimes.Stage.Mix, Stopwatch.GetTimestamp() - mixStart);
                // At the default level the batch's PNGs go into one pooled buffer (a slot of MaxLength per row) that the
                // writer returns once it has written them: no array per image to be promoted through the GC generations
                // while it waits for the writer.
                _rows = new ShardRow[_batch.Rows];
                _encoded = _context.Encoded?.Rent();
            });
            if (_error is not null)
            {
                End();
                return;
            }
            Step(_rows.Length, PerItem(_rows.Length, _pixels), Encode, End);
        }

        /// <summary>Originals (when kept) come first, from the same decoded pixels the mix used: no second decode.</summary>
        private void Encode(int start, int end)
        {
            var size = _context.Options.Size;
            var offset = _batch.MixedOffset;
            var slot = _context.PngSlot;
            var method = _context.Options.Plan.Method;
            for (var r = start; r < end; r++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var rgb = r < offset ? _x.AsSpan(r * _pixels, _pixels) : _y.AsSpan((r - offset) * _pixels, _pixels);
                ReadOnlyMemory<byte> png = _encoded is not null
                    ? _encoded.AsMemory(r * slot, PngEncoder.Encode(rgb, size, size, _encoded.AsSpan(r * slot, slot)))
                    : PngEncoder.Encode(rgb, size, size, _context.Options.PngLevel);
                _generator.Times.Add(StageTimes.Stage.Encode, Stopwatch.GetTimestamp() - t0);
                _rows[r] = r < offset ? BuildOriginalRow(_batch, r, png, _context.Listing, method) : BuildRow(_batch, r - offset, png, _context.Listing, method);
            }
        }

        /// <summary>Returns the batch's buffers and completes the task: with the rows, or with the first failure.</summary>
        private void End()
        {
            var error = Volatile.Read(ref _error);
            if (error is not null && _encoded is not null)
            {
                _context.Encoded!.Return(_encoded);
            }
            if (_mixer is not null)
            {
                if (_mixer.Staging is null)
                {
                    if (_x is not null)
                    {
                        _context.Pixels.Return(_x);
                    }
                    if (_y is not null && _y != _x)
                    {
                        _context.Pixels.Return(_y);
                    }
                }
                _context.Mixers.Return(_mixer);
            }
            if (error is OperationCanceledException cancelled)
            {
                _done.TrySetCanceled(cancelled.CancellationToken);
            }
            else if (error is not null)
            {
                _done.TrySetException(error);
            }
            else
            {
                _done.TrySetResult(new FinishedBatch(_rows, Stopwatch.GetTimestamp(), _encoded));
            }
        }
    }

    /// <summary>
    /// CutMix's pixel op after the W @ X mix: each boxed output gets the box of its partner's original (cutmix) or of
    /// its partner's ζ output (cutmix+zeta, read from a copy so a partner's own box never leaks into another output).
    /// </summary>
    private static void PasteCutMixBoxes(PlannedBatch batch, byte[] x, byte[] y, int pixels, int size)
    {
        var m = batch.Inputs.Length;
        byte[]? mixed = null;
        try
        {
            for (var k = 0; k < batch.Outputs.Length; k++)
            {
                if (batch.Outputs[k].Box is not { } box)
                {
                    continue;
                }
                if (box.FromMixed && mixed is null)
                {
                    mixed = ArrayPool<byte>.Shared.Rent(m * pixels);
                    y.AsSpan(0, m * pixels).CopyTo(mixed);
                }
                var from = box.FromMixed ? mixed! : x;
                box.Paste(from.AsSpan(box.Partner * pixels, pixels), y.AsSpan(k * pixels, pixels), size);
            }
        }
        finally
        {
            if (mixed is not null)
            {
                ArrayPool<byte>.Shared.Return(mixed);
            }
        }
    }

    /// <summary>Writes input <paramref name="input"/>'s label, smoothed (y ← y(1−ε) + ε/K) before any mixing, as timm does.</summary>
    private static void WriteSmoothedLabel(SourceListing listing, int input, double epsilon, double[] label)
    {
        listing.WriteLabel(input, label);
        if (epsilon > 0)
        {
            for (var c = 0; c < label.Length; c++)
            {
                label[c] = label[c] * (1.0 - epsilon) + epsilon / label.Length;
            }
        }
    }

    private static ShardRow BuildRow(PlannedBatch batch, int k, ReadOnlyMemory<byte> png, SourceListing listing, MixMethodOptions method)
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
            WriteSmoothedLabel(listing, input, method.LabelSmoothing, one);
            for (var c = 0; c < classes; c++)
            {
                label[c] += recipe.Weights[i] * one[c];
            }
            sources[i] = listing.Items[input].Id;
            weights[i] = (float)recipe.Weights[i];
        }
        var dominant = listing.Items[batch.Inputs[recipe.Dominant]].ClassIndex;
        var row = batch.FirstRow + batch.MixedOffset + k;
        return new ShardRow(
            png,
            row.ToString("D8", CultureInfo.InvariantCulture) + ".png",
            Array.ConvertAll(label, v => (float)v),
            dominant,
            sources,
            weights,
            (float)recipe.Gamma,
            Original: recipe.Method == MixMethod.None,
            Method: MixMethodOptions.NameOf(recipe.Method),
            Lam: recipe.Lambda is { } lambda ? (float)lambda : null);
    }

    /// <summary>Row <paramref name="i"/> of a batch that keeps originals: input i, resized, with its own label, weight 1 and γ = 0.</summary>
    private static ShardRow BuildOriginalRow(PlannedBatch batch, int i, ReadOnlyMemory<byte> png, SourceListing listing, MixMethodOptions method)
    {
        var input = batch.Inputs[i];
        var label = new double[listing.ClassNames.Count];
        WriteSmoothedLabel(listing, input, method.LabelSmoothing, label);
        var item = listing.Items[input];
        return new ShardRow(
            png,
            (batch.FirstRow + i).ToString("D8", CultureInfo.InvariantCulture) + ".png",
            Array.ConvertAll(label, v => (float)v),
            item.ClassIndex,
            [item.Id],
            [1f],
            0f,
            Original: true,
            Method: MixMethodOptions.NameOf(MixMethod.None));
    }

    /// <summary>The bytes of batch buffers (decoded pixels, PNG slots) the batches queued ahead of the writer may hold.</summary>
    internal const long AheadBytes = 8L << 20;

    /// <summary>The most batches queued ahead of the writer.</summary>
    internal const int MaxBatchesAhead = 64;

    /// <summary>
    /// How many started batches may queue for the writer: as many as <see cref="AheadBytes"/> holds of the largest batch's
    /// pooled buffers (its decoded pixels and, at the default PNG level, its PNG slots), at least 1 and at most <see cref="MaxBatchesAhead"/>. A batch of 32
    /// 224² photos (9.6 MB of buffers) gets 1, as before: ~90 ms of decoding each keeps the workers busy. A batch of 32
    /// 28² images (~155 KB) is ~1 ms of work, and with one queued the workers idled at each batch's steps and thread
    /// hand-offs: 64,000 such images on 2 threads spent 1.55–1.85 s in their batches with 1 queued, 1.10–1.15 s with 32
    /// (54 here).
    /// </summary>
    internal static int BatchesAhead(MixPlan plan, GenerateOptions options)
    {
        var batchBytes = ((long)plan.MaxBatchInputs * options.Size * options.Size * 3) + ((long)plan.MaxBatchRows * PngSlot(options));
        return (int)Math.Clamp(AheadBytes / Math.Max(1, batchBytes), 1, MaxBatchesAhead);
    }

    /// <summary>Bytes per row of a batch's pooled PNG buffer at the default level (each row gets a worst-case slot); 0 at other levels.</summary>
    private static int PngSlot(GenerateOptions options) =>
        options.PngLevel == PngEncoder.DefaultLevel ? PngEncoder.MaxLength(options.Size, options.Size) : 0;

    /// <summary>The plan over every listed input, checked before any input is read: too few inputs, or batches too large for their buffers.</summary>
    private static MixPlan ListedPlan(int inputs, GenerateOptions options)
    {
        var plan = MixPlan.Create(inputs, PlanOptionsOf(options));
        CheckBatchesFit(plan, options, (long)options.Size * options.Size * 3, PngSlot(options));
        return plan;
    }

    /// <summary>A plan is a pure function of (input count, options): made again only when --on-error skip left inputs out.</summary>
    private static MixPlan KeptPlan(MixPlan listed, int kept, GenerateOptions options) =>
        kept == listed.InputCount ? listed : MixPlan.Create(kept, PlanOptionsOf(options));

    /// <summary>The plan's options: CutMix boxes are decided in the plan, in pixels of the output size.</summary>
    private static PlanOptions PlanOptionsOf(GenerateOptions options) => options.Plan with { ImageSize = options.Size };

    /// <summary>
    /// A batch's decoded pixels, its mixed outputs and (at the default PNG level) its PNG slots each sit in one array,
    /// and a .NET array holds at most <see cref="Array.MaxLength"/> (~2 GiB) bytes: a plan whose largest batch would not
    /// fit is a usage error naming the batch size that would.
    /// </summary>
    private static void CheckBatchesFit(MixPlan plan, GenerateOptions options, long pixels, long pngSlot)
    {
        int inputs = plan.MaxBatchInputs, rows = plan.MaxBatchRows;
        var bytes = Math.Max(inputs * pixels, rows * pngSlot);
        if (bytes <= Array.MaxLength)
        {
            return;
        }
        var perInput = Math.Max(pixels, pngSlot * rows / inputs);
        throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
            $"--batch-size {options.Plan.BatchSize}: a batch of {inputs} images of {options.Size}×{options.Size} needs {bytes / 1073741824.0:F1} GiB in one buffer, more than the 2 GiB one can hold; use --batch-size {Array.MaxLength / perInput} or less, or a smaller --size."));
    }

    /// <summary>
    /// A class name with a tab, newline or other control character (a folder name may hold any): the dataset card's YAML
    /// ClassLabel and its class table, and inspect's, would carry another name than the manifest and the shards.
    /// </summary>
    private static void RefuseControlCharacters(IReadOnlyList<string> classNames, string input)
    {
        if (classNames.FirstOrDefault(n => n.Any(char.IsControl)) is { } name)
        {
            var shown = string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
            throw new ZetaPrepException($"{input}: class name '{shown}' holds a control character (a tab, newline or the like), which the dataset card and loaders' class labels cannot carry as written; rename that class folder (or label value) without one.");
        }
    }

    /// <summary>
    /// One line naming the class folders that hold no image, and what that does to the label space; one per --exclude
    /// pattern that left out nothing.
    /// </summary>
    private static List<string> ListingNotes(SourceListing listed, string input)
    {
        var notes = new List<string>();
        if (listed.EmptyClassFolders.Count > 0)
        {
            var names = string.Join(", ", listed.EmptyClassFolders.Select(n => $"'{n}'"));
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{input}: class folder(s) {names} hold no images, so they are not classes here: the labels have {listed.ClassNames.Count} classes; a split whose folders do hold images gets other class indices (add images, or remove the folders from every split)"));
        }
        if (listed.PassedOver.Count > 0)
        {
            notes.Add($"{input}: not read: {string.Join("; ", listed.PassedOver)}");
        }
        foreach (var glob in listed.UnmatchedExcludes)
        {
            notes.Add($"--exclude '{glob}' matched no image of {input}, so it left nothing out: a pattern is matched against each file's name and its whole path relative to the input ('*' and '?' stay within one folder, '**' crosses folders: '**/masks/**' leaves out every folder named masks)");
        }
        return notes;
    }

    /// <summary>SparseCpuMixer's cost per output byte and member: ~0.1 ms for a 224² output of N = 8 (`ZetaPrep.Bench kernels`).</summary>
    private const double CpuMixSecondsPerByte = 8e-11;

    /// <summary>
    /// Whether --device auto opens the GPU for this run: only where mixing on the CPU would take about a second of thread
    /// time or more (~10,000 outputs at 224² and N = 8; never 64,000 at 28²). Opening the driver (cuInit ~0.36 s on an
    /// H200) and compiling the kernels run beside the run, but a shorter run waits for them at exit: 400 photos on 16
    /// threads took 0.33 s with the GPU opened where the CPU alone took 0.23 s, and the GPU had mixed nothing. Same
    /// bytes either way.
    /// </summary>
    internal static bool GpuWorthOpening(MixPlan plan, GenerateOptions options)
    {
        var members = options.Plan.N.For(options.Plan.BatchSize);
        var rows = (double)plan.TotalRows / (options.Worker?.Count ?? 1);
        return rows * options.Size * options.Size * 3 * members * CpuMixSecondsPerByte >= 1.0;
    }

    /// <summary>The most inputs a batch can have before the input count is known: a pass's last batch may take one more (<see cref="MixPlan"/>).</summary>
    private static int MostBatchInputs(GenerateOptions options) => options.Plan.BatchSize == int.MaxValue ? int.MaxValue : options.Plan.BatchSize + 1;

    /// <summary>
    /// Reads every input once: checks its header (format, pixel limit) and structure (<see cref="ImageIntegrity"/>)
    /// and hashes it for the fingerprint. Bad inputs stop the run (reported in listing order, so the message does not
    /// depend on timing) or, with --on-error skip, are left out of the listing before planning. The bytes of the inputs
    /// <paramref name="retained"/> has room for stay in memory for their batches.
    /// </summary>
    private async Task<ValidatedInputs> ValidateAndFingerprintAsync(SourceListing listing, GenerateOptions options, RetainedInputs? retained, bool scanJpegs, CancellationToken cancellationToken)
    {
        var hashes = new byte[listing.Items.Count][];
        var sizes = new long[listing.Items.Count];
        var problems = new ZetaPrepException?[listing.Items.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = cancellationToken };
        using var grace = new CancelGraceClock(cancellationToken);
        // Inputs in runs of up to 64 (at least 8 runs per thread): Parallel.ForEachAsync takes an asynchronous lock per
        // element it hands out, which capped 64,000 small files at ~0.4 s whatever the threads (16 did no better than 2).
        var count = listing.Items.Count;
        var per = (int)Math.Clamp(count / (options.Threads * 8L), 1, 64);
        await WaitOrAbandonAsync(Parallel.ForEachAsync(Enumerable.Range(0, (count + per - 1) / per), parallel, async (run, ct) =>
        {
            for (var i = run * per; i < Math.Min(count, (run + 1) * per); i++)
            {
                await ValidateOneAsync(i, ct).ConfigureAwait(false);
            }
            // The pass leaves a few KB of garbage per input: collected here, not spread over the first generation's region.
            _nursery.CollectIfFull();
        }), grace).ConfigureAwait(false);

        async ValueTask ValidateOneAsync(int i, CancellationToken ct)
        {
            var item = listing.Items[i];
            var t0 = Stopwatch.GetTimestamp();
            PooledBytes bytes;
            try
            {
                bytes = await _source.ReadPooledAsync(item, ct).ConfigureAwait(false);
            }
            catch (ZetaPrepException e)
            {
                // Unreadable (gone, no permission, a name the OS cannot give back, a zip entry failing its CRC-32): a bad
                // input like any other, so --on-error skip leaves it out. Fingerprinted as no bytes: readable again, it changes.
                (hashes[i], sizes[i], problems[i]) = (SHA256.HashData(ReadOnlySpan<byte>.Empty), 0, e);
                Times.Add(StageTimes.Stage.Validate, Stopwatch.GetTimestamp() - t0);
                return;
            }
            using (bytes)
            {
                hashes[i] = SHA256.HashData(bytes.Span);
                sizes[i] = bytes.Length;
                retained?.Keep(i, bytes.Span, hashes[i]);
                var name = DisplayName(item);
                try
                {
                    var header = _decoder.ReadHeader(bytes.Span, name);
                    var pixelCount = (long)header.Width * header.Height;
                    if (pixelCount > options.MaxPixels)
                    {
                        throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                            $"{name}: {header.Width}×{header.Height} = {pixelCount:N0} pixels exceeds --max-pixels {options.MaxPixels:N0}; raise --max-pixels or remove the file."));
                    }
                    // A JPEG whose scan data stops early yet ends in EOI is found by an entropy decode of its scans:
                    // here under --on-error skip (to leave it out, not fail later) and when --overwrite replaces an
                    // output (which a mid-run stop would leave deleted), else by the batch's TurboJPEG decode, which
                    // refuses it (free: this pass would decode every photo's scans twice for a rare file).
                    using (_memoryGate.Enter(DecodeMemoryGate.ForPngCheck(bytes.Span)))
                    {
                        ImageIntegrity.Check(bytes.Span, name, decodeJpegScans: options.OnError == OnError.Skip || scanJpegs || !_decoder.DetectsJpegDataLoss(bytes.Span));
                    }
                    if (!ImageIntegrity.ChecksStructureOf(bytes.Span))
                    {
                        // GIF, WebP, BMP (rare in datasets): decoded here as their batch will decode them, so that one cut
                        // short fails (or is skipped) before any shard, not mid-run in its batch.
                        var scratch = ArrayPool<byte>.Shared.Rent(options.Size * options.Size * 3);
                        try
                        {
                            DecodeInput(bytes.Span, item, options.Size, options.Resize, scratch.AsSpan(0, options.Size * options.Size * 3));
                        }
                        finally
                        {
                            ArrayPool<byte>.Shared.Return(scratch);
                        }
                    }
                }
                catch (ZetaPrepException e)
                {
                    problems[i] = e;
                }
            }
            Times.Add(StageTimes.Stage.Validate, Stopwatch.GetTimestamp() - t0);
        }

        var fingerprint = listing.Fingerprint(sizes, hashes);
        ValidationRecord.Entry[] Entries() => [.. listing.Items.Select((item, i) => new ValidationRecord.Entry(
            item.Id, sizes[i], hashes[i], problems[i] is { } p ? Reason(p.Message, DisplayName(item)) : null))];

        var bad = Enumerable.Range(0, problems.Length).Where(i => problems[i] is not null).ToList();
        if (bad.Count == 0)
        {
            return new ValidatedInputs(listing, fingerprint, []) { Entries = Entries(), Retained = retained };
        }
        if (options.OnError == OnError.Fail)
        {
            var more = bad.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" ({bad.Count - 1} more bad input(s); --on-error skip leaves them out)") : "";
            var first = problems[bad[0]]!.Message;
            // A decoder's verdict says what is wrong ("empty file, not an image"); the way on is the same for all of them.
            var message = first.Contains("; ", StringComparison.Ordinal) ? first : first.TrimEnd('.') + "; replace or remove the file, or pass --on-error skip to leave bad inputs out.";
            throw new ZetaPrepException(message + more, problems[bad[0]]!);
        }
        var skipped = bad.Select(i => new SkippedInput(listing.Items[i].Id, Reason(problems[i]!.Message, DisplayName(listing.Items[i])))).ToList();
        var keptIndices = Enumerable.Range(0, problems.Length).Where(i => problems[i] is null).ToList();
        var kept = keptIndices.Select(i => listing.Items[i]).ToList();
        return new ValidatedInputs(listing with { Items = kept }, fingerprint, skipped) { Entries = Entries(), Retained = retained?.Select(keptIndices) };
    }

    /// <summary>The part of a problem message after "file: " and before the advice, for the manifest's skip list.</summary>
    private static string Reason(string message, string displayName)
    {
        var reason = message.StartsWith(displayName + ": ", StringComparison.Ordinal) ? message[(displayName.Length + 2)..] : message;
        var advice = reason.IndexOf("; ", StringComparison.Ordinal);
        return advice > 0 ? reason[..advice] : reason;
    }

    private sealed record ValidatedInputs(SourceListing Listing, string Fingerprint, IReadOnlyList<SkippedInput> Skipped)
    {
        /// <summary>The pass's verdict on every listed input, for <see cref="ValidationRecord"/>; null when they came from it.</summary>
        public ValidationRecord.Entry[]? Entries { get; init; }

        /// <summary>When the verdicts came from the record: each kept input's SHA-256 (as Listing.Items), checked at decode time.</summary>
        public byte[][]? ExpectedSha256 { get; init; }

        /// <summary>Small inputs' bytes as the pass read them (as Listing.Items); null when the verdicts came from a record.</summary>
        public RetainedInputs? Retained { get; init; }

        /// <summary>The inputs the batches read with nothing to check their bytes against, and their identity before the pass.</summary>
        public InputWatch? Watch { get; init; }
    }

    /// <summary>Inputs (as listed) whose files must be as <paramref name="Before"/> found them when the run ends.</summary>
    private sealed record InputWatch(IReadOnlyList<SourceItem> Items, InputsIdentity Before);

    /// <summary>
    /// After the last shard: a watched input whose file changed (size, modification or status-change time, inode) since
    /// before the validation pass may have been mixed as it is now, while the fingerprint describes it as the pass read
    /// it. The run then fails before its manifest says complete (one statx per watched file, in parallel).
    /// </summary>
    private void CheckWatchedInputs(InputWatch? watch, int threads, CancellationToken cancellationToken)
    {
        if (watch is null || _source is not IIdentifiableSource identify)
        {
            return;
        }
        var now = identify.Identify(watch.Items, threads, cancellationToken);
        if (now?.Digest != watch.Before.Digest)
        {
            throw new ZetaPrepException($"{_source.Description}: an input file changed while this run read it (its size, modification or status-change time is not what it was before the validation pass), so shards may hold images the fingerprint does not describe; rerun with --overwrite once the input stops changing.");
        }
    }

    /// <summary>
    /// The validation pass's verdicts: those of the run being resumed in <paramref name="resumeDir"/> (each input's bytes
    /// then checked against its recorded SHA-256 as they are read for decoding), else those <see cref="VerdictCache"/>
    /// kept for these very files, else a pass over every input (its verdicts then kept when the files did not change;
    /// <paramref name="retain"/>: with the bytes of small inputs, for a run that goes on to decode them).
    /// </summary>
    private async Task<ValidatedInputs> ValidateOrReuseAsync(SourceListing listed, GenerateOptions options, string recordKey, string? resumeDir, bool retain, bool scanJpegs, CancellationToken cancellationToken)
    {
        if (resumeDir is not null && FromRecord(listed, ValidationRecord.TryRead(resumeDir, recordKey, listed.Items), trusted: false) is { } resumed)
        {
            return resumed;
        }
        var cache = VerdictCache;
        var identify = _source as IIdentifiableSource;
        var before = cache is null ? null : identify?.Identify(listed.Items, options.Threads, cancellationToken);
        // Verdicts kept by a pass that left the JPEG scans to the batches do not say what a pass that decodes them would
        // (those of one that did are stored under the same key: they are what any run may reuse).
        var scansOnRecord = options.OnError == OnError.Skip;
        if (before is not null && (scansOnRecord || !scanJpegs) && FromRecord(listed, cache!.TryRead(recordKey, before, listed.Items), trusted: true) is { } cached)
        {
            // Read once, by the batches, with nothing to compare the bytes with: watched, as below.
            return retain ? cached with { Watch = new InputWatch(listed.Items, before) } : cached;
        }
        // The inputs a run will read again for their batches (not kept by the pass) are watched from before the pass: a
        // file rewritten after the pass read it would be mixed as it is now, in shards whose fingerprint says otherwise.
        var retained = retain ? RetainedInputs.Plan(listed.Items) : null;
        IReadOnlyList<SourceItem> watched = retained is null ? listed.Items : [.. listed.Items.Where((_, i) => !retained.IsPlanned(i))];
        var watchedBefore = !retain || watched.Count == 0 ? null
            : ReferenceEquals(watched, listed.Items) && before is not null ? before
            : identify?.Identify(watched, options.Threads, cancellationToken);
        var validated = await ValidateAndFingerprintAsync(listed, options, retained, scanJpegs, cancellationToken).ConfigureAwait(false);
        if (before is not null && validated.Entries is { } entries)
        {
            cache!.TryStore(recordKey, before, identify!.Identify(listed.Items, options.Threads, cancellationToken), entries);
        }
        return watchedBefore is null ? validated : validated with { Watch = new InputWatch(watched, watchedBefore) };
    }

    /// <summary>
    /// Verdicts on record (null when there is none usable): from the run being resumed, checked again at decode time, or
    /// <paramref name="trusted"/> from the cache for unchanged files (then also the record a resume of this run reuses).
    /// </summary>
    private ValidatedInputs? FromRecord(SourceListing listing, ValidationRecord.Entry[]? entries, bool trusted)
    {
        if (entries is null)
        {
            return null;
        }
        // The record's entries are the listing's items, in order (TryRead matched each line's id to the listing's).
        var fingerprint = listing.Fingerprint([.. entries.Select(e => e.Size)], [.. entries.Select(e => e.Sha256)]);
        var kept = listing.Items.Where((_, i) => entries[i].Skip is null).ToList();
        var skipped = entries.Where(e => e.Skip is not null).Select(e => new SkippedInput(e.Id, e.Skip!)).ToList();
        Times.ValidationReused = entries.Length;
        Times.ValidationFromCache = trusted;
        return new ValidatedInputs(listing with { Items = kept }, fingerprint, skipped)
        {
            Entries = trusted ? entries : null,
            ExpectedSha256 = trusted ? null : entries.Where(e => e.Skip is null).Select(e => e.Sha256).ToArray(),
        };
    }

    /// <summary>
    /// Decodes and resizes one input for its batch, a large PNG first waiting for room in the decode budget (a kept file
    /// of a few KB can claim 100 megapixels of one colour as well as a read one).
    /// </summary>
    private void DecodeInput(ReadOnlySpan<byte> encoded, SourceItem item, int size, ResizeMode mode, Span<byte> rgbOut)
    {
        using var lease = _memoryGate.Enter(DecodeMemoryGate.ForPngDecode(encoded));
        _decoder.DecodeResized(encoded, DisplayName(item), size, mode, rgbOut);
    }

    /// <summary>An input read for decoding must still be the one the recorded validation pass checked and fingerprinted.</summary>
    private void CheckUnchanged(ReadOnlySpan<byte> bytes, byte[] expected, SourceItem item)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        if (!hash.SequenceEqual(expected))
        {
            throw new ZetaPrepException($"{DisplayName(item)}: changed since this output's inputs were validated (SHA-256 differs from {ValidationRecord.FileName}); the shards written so far are complete: restore the file, or start over with --overwrite.");
        }
    }

    private string DisplayName(SourceItem item) => _source.DisplayName(item);

    /// <summary>Waits for a task whose failure is not the one to report (another error is already propagating).</summary>
    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Deliberately ignored: see the summary.
        }
    }

    private static async Task DrainAsync(ChannelReader<Task<FinishedBatch>> reader, Task producer, CancelGraceClock grace)
    {
        // Observe every started batch so a failure in one does not leave others running or unobserved; give them what
        // is left of the grace, since a batch blocked in an input read cannot end (see WaitOrAbandonAsync).
        try
        {
            await producer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        var started = new List<Task>();
        while (reader.TryRead(out var task))
        {
            started.Add(task);
        }
        try
        {
            await Task.WhenAll(started).WaitAsync(grace.Remaining).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The first failure is already propagating; later ones are consequences of the cancellation.
        }
        started.ForEach(Observe);
    }

    /// <summary>
    /// How long a cancelled run waits, in all, for work already started (decodes, encodes, a shard write in progress)
    /// before it gives up on it: ample for any batch that is computing, while a read blocked in the OS (a FIFO nobody
    /// writes, a network mount that stopped answering) cannot be cancelled and would otherwise hold the run until the
    /// process is killed, without its resume hint.
    /// </summary>
    private static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(5);

    /// <summary>The end of the <see cref="CancelGrace"/> that starts when its token is cancelled, shared by every wait of a phase.</summary>
    private sealed class CancelGraceClock : IDisposable
    {
        private readonly CancellationTokenRegistration _registration;
        private long _deadline = long.MaxValue;

        public CancelGraceClock(CancellationToken token)
        {
            Token = token;
            _registration = token.Register(Start);
        }

        public CancellationToken Token { get; }

        /// <summary>What is left of the grace (infinite before cancellation, zero once it has run out).</summary>
        public TimeSpan Remaining
        {
            get
            {
                if (!Token.IsCancellationRequested)
                {
                    return Timeout.InfiniteTimeSpan;
                }

                // The token's callbacks run one after another: a wait woken by an earlier one can ask before Start ran.
                Start();
                var deadline = Interlocked.Read(ref _deadline);
                return Stopwatch.GetElapsedTime(Math.Min(Stopwatch.GetTimestamp(), deadline), deadline);
            }
        }

        private void Start() =>
            Interlocked.CompareExchange(ref _deadline, Stopwatch.GetTimestamp() + (long)(CancelGrace.TotalSeconds * Stopwatch.Frequency), long.MaxValue);

        public void Dispose() => _registration.Dispose();
    }

    /// <summary>
    /// <paramref name="task"/>'s result; once the clock's token is cancelled, at most what is left of the grace more, then
    /// an <see cref="OperationCanceledException"/> that leaves the task behind (its buffers are the run's own, never read
    /// again; a later failure is observed).
    /// </summary>
    private static async Task<T> WaitOrAbandonAsync<T>(Task<T> task, CancelGraceClock grace)
    {
        await WaitOrAbandonAsync((Task)task, grace).ConfigureAwait(false);
        return await task.ConfigureAwait(false);
    }

    private static async Task WaitOrAbandonAsync(Task task, CancelGraceClock grace)
    {
        try
        {
            await task.WaitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (grace.Token.IsCancellationRequested && !task.IsCompleted)
        {
            try
            {
                await task.WaitAsync(grace.Remaining, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Observe(task);
                throw new OperationCanceledException(grace.Token);
            }
        }
    }

    /// <summary>Observes <paramref name="task"/>'s failure whenever it comes, so an abandoned task never raises UnobservedTaskException.</summary>
    private static void Observe(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// A batch's rows, when they were ready (Stopwatch timestamp, for --profile's queue figures) and, when set, the
    /// pooled buffer their PNG bytes live in (<paramref name="Encoded"/>), returned once they are written.
    /// </summary>
    private sealed record FinishedBatch(ShardRow[] Rows, long FinishedAt, byte[]? Encoded);

    /// <param name="Pixels">Decoded-input and mixed-output buffers of the largest batch (CPU mixers; a CUDA mixer brings its own).</param>
    /// <param name="Encoded">At the default PNG level: buffers of one <paramref name="PngSlot"/> per row of the largest batch.</param>
    /// <param name="FreshOutput">Whether the output holds nothing of an earlier run (no --resume of one): what this run
    /// writes is all there is, and a bad input found mid-run (<see cref="StoppedByInput"/>) leaves none of it behind.</param>
    private sealed record BatchContext(SourceListing Listing, GenerateOptions Options, MixerPool Mixers, BatchWorkers Workers,
        BufferPool Pixels, BufferPool? Encoded, int PngSlot, byte[][]? ExpectedSha256, RetainedInputs? Retained, bool FreshOutput)
    {
        /// <summary>Set when an input the validation pass let through failed its batch's decode and stopped the run.</summary>
        public volatile bool StoppedByInput;
    }
}
