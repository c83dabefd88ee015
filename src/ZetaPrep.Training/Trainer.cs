using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using static TorchSharp.torch;

namespace ZetaPrep.Training;

/// <summary>Trains a ResNet on shards with soft labels and evaluates it on original images every epoch (the consumer side of ζ-mixup).</summary>
public sealed class Trainer
{
    public const string MetricsFile = "metrics.jsonl";
    public const string BestFile = "best.pt";
    public const string LastFile = "last.pt";
    public const string LastOptimizerFile = "last.optimizer.pt";
    public const string CurvesFile = "curves.png";

    private readonly IImageDecoder _decoder;

    public Trainer(IImageDecoder decoder) => _decoder = decoder;

    /// <summary>Receives notes for the user (one line each; the CLI prints them as "zetaprep: note: …").</summary>
    public Action<string>? Notes { get; init; }

    /// <summary>Every file a run directory holds after a saved epoch, in the order train's closing line lists them.</summary>
    public static IReadOnlyList<string> RunFileNames => RunFiles.FileNames;

    /// <summary>
    /// The epoch whose checkpoint <paramref name="outputDirectory"/> holds for --resume (its last.json), or null when no
    /// epoch was saved there; a <see cref="ZetaPrepException"/> when last.json cannot be read.
    /// </summary>
    public static int? SavedEpoch(string outputDirectory)
    {
        var path = Path.Combine(outputDirectory, TrainState.FileName);
        try
        {
            return File.Exists(path) ? TrainState.Read(path).Epoch : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--resume: cannot read {path} ({e.Message}).", e);
        }
    }

    /// <summary>Runs (or with <see cref="TrainOptions.Resume"/> continues) training and writes every output file under the output directory.</summary>
    public async Task<TrainResult> RunAsync(TrainOptions options, IValidationSource validation, ITrainProgress? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(validation);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        TorchRuntime.RegisterAssembly(typeof(torchvision).Assembly);

        CheckDistinctData(options.DataDirectories);
        var data = new List<ShardDirectory>();
        var shardOwners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in options.DataDirectories)
        {
            var shards = await ShardDirectory.OpenAsync(dir, "--data", cancellationToken).ConfigureAwait(false);
            if (data.Count > 0 && !data[0].ClassNames.SequenceEqual(shards.ClassNames, StringComparer.Ordinal))
            {
                throw new ZetaPrepException($"--data {dir}: classes [{string.Join(", ", shards.ClassNames)}] differ from {data[0].Path}'s [{string.Join(", ", data[0].ClassNames)}]; train on shards of one label space.");
            }

            if (data.FirstOrDefault(d => d.ManifestSha256 is not null && d.ManifestSha256 == shards.ManifestSha256) is { } twin)
            {
                throw ZetaPrepException.Usage($"--data {dir}: holds the same shards as {twin.Path} (identical manifest.json); each row would be trained on twice per epoch: give each shard directory once.");
            }

            // One directory given as itself and as its data/ reaches the same files: each row would be trained on twice
            // per epoch (and the loader keys its shards by path).
            foreach (var file in shards.Files)
            {
                if (!shardOwners.TryAdd(Path.GetFullPath(file), dir))
                {
                    throw ZetaPrepException.Usage($"--data {dir}: reads {Path.GetFullPath(file)}, which --data {shardOwners[Path.GetFullPath(file)]} reads too; each row would be trained on twice per epoch: give each shard directory once.");
                }
            }

            data.Add(shards);
        }

        var outDir = options.OutputDirectory;
        CheckOutsideData(outDir, data);
        if (data.Sum(d => d.Rows) < 2)
        {
            throw new ZetaPrepException($"--data {string.Join(' ', options.DataDirectories)}: holds one row; a training step needs at least two images (BatchNorm): generate more rows.");
        }

        var classes = data[0].ClassNames;
        var size = options.Size ?? data[0].ImageSize;
        if (options.Size is null && data.FirstOrDefault(d => d.ImageSize != data[0].ImageSize) is { } otherSize)
        {
            // "The shards' image size" is no one size here: the first directory's would silently resize the others.
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--data: {data[0].Path} holds {data[0].ImageSize}×{data[0].ImageSize} images, {otherSize.Path} {otherSize.ImageSize}×{otherSize.ImageSize}; pass --size to train them all at one size (e.g. --size {data.Max(d => d.ImageSize)})."));
        }
        var valClasses = await validation.ReadClassNamesAsync(cancellationToken).ConfigureAwait(false);
        if (!valClasses.SequenceEqual(classes, StringComparer.Ordinal))
        {
            throw new ZetaPrepException($"--val {validation.Description}: classes [{string.Join(", ", valClasses)}] ({valClasses.Count}) differ from the shards' [{string.Join(", ", classes)}] ({classes.Count}){ValidationSet.EmptyClassFolders(validation, valClasses, classes)}; validate on the same label space.");
        }

        // A training batch's pixels are one array (2 GiB at most).
        if ((long)options.BatchSize * size * size * 3 > Array.MaxLength)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--batch-size {options.BatchSize} at --size {size}: a batch needs {(long)options.BatchSize * size * size * 3} bytes of pixels, more than one array holds ({Array.MaxLength}); lower --batch-size to at most {Array.MaxLength / ((long)size * size * 3)} or --size."));
        }

        var resumed = CheckOutDirectory(outDir, options.Resume);

        // Everything that can refuse the run is checked before the run directory is created or changed.
        var valSet = await ValidationSet.LoadAsync(validation, size, cancellationToken).ConfigureAwait(false);
        var device = TorchRuntime.ResolveDevice(options.Device);

        var files = data.SelectMany(d => d.Files).ToList();
        var rows = data.Sum(d => d.Rows);
        var configPath = Path.Combine(outDir, RunConfig.FileName);
        var recorded = resumed is null ? null : ReadRecordedConfig(configPath);
        if (recorded is not null && options.EpochsFromRun)
        {
            options = options with { Epochs = recorded.Epochs };
        }

        var config = BuildConfig(options, classes, size, device.ToString(), valSet.Description, valSet.Count, data);
        if (recorded is not null && resumed is not null)
        {
            CheckResumable(configPath, recorded, config, options.Epochs, resumed.Epoch);
            if (options.Epochs != recorded.Epochs && options.Epochs > resumed.Epoch)
            {
                // The schedule is a function of the step and the run's total steps (LearningRateSchedule.ForRun).
                Notes?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"--epochs {options.Epochs} changes the run's {recorded.Epochs} epochs: the learning rate of epochs {resumed.Epoch + 1}–{options.Epochs} follows the warm-up + cosine schedule re-spread over {options.Epochs} epochs, while epochs 1–{resumed.Epoch} followed the {recorded.Epochs}-epoch one, so the result differs from a fresh {options.Epochs}-epoch run."));
            }
        }

        using var model = ModelFactory.Create(options.Architecture, classes.Count, options.Seed);
        if (options.PretrainedPath is not null && resumed is null)
        {
            ModelFactory.LoadPretrained(model, options.PretrainedPath);
        }

        if (resumed is not null)
        {
            Checkpoint.Load(model, Path.Combine(outDir, LastFile), "--resume");
        }

        model.to(device);
        var lr = options.ResolvedLearningRate;
        using var optimizer = CreateOptimizer(options, model, lr);
        if (resumed is not null)
        {
            Checkpoint.Load(optimizer, Path.Combine(outDir, LastOptimizerFile));
        }

        // Locked from here to the end: a second run on this --out is refused before it writes anything.
        using var run = RunFiles.Create(outDir, resume: resumed is not null);
        try
        {
            // Checked again under the lock: another run may have written here since the first check.
            if (CheckOutDirectory(outDir, options.Resume) != resumed)
            {
                throw ZetaPrepException.Usage($"--out {outDir}: another zetaprep run saved an epoch there while this one was starting; rerun the command to continue from its checkpoint.");
            }

            run.RemoveStaleTemps();
            // On --resume only the epochs, device and threads can have changed (CheckResumable), so the provenance of best.pt holds.
            run.WriteConfig(config);
            // libtorch 2.10's oneDNN (3.7.1) stops the process with SIGFPE in ResNet-50's first backward step on the dev VM's
            // CPU (AMD EPYC, AVX-512; an integer division by zero in brg_blocking_t::est_eff_1x1 while it plans a strided
            // convolution's backward pass), at every image size tried (16-224), with AVX2 kernels too; ResNet-18 is not
            // affected. ATen's own convolutions train it instead, about 2x slower than oneDNN's (ResNet-18 measured).
            var mkldnnWas = options.Architecture == TrainArchitecture.ResNet50 && device.type == DeviceType.CPU ? TorchRuntime.SwapMkldnn(false) : null;
            if (mkldnnWas is not null)
            {
                Notes?.Invoke("resnet50 on cpu: libtorch's oneDNN convolution kernels are off for this run (oneDNN 3.7.1 crashes in ResNet-50's backward pass on some CPUs); its own kernels are about 2x slower.");
            }
            try
            {
                return await TrainEpochsAsync(options, run, model, optimizer, data, files, rows, classes, size, valSet, device, resumed, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (mkldnnWas is { } was)
                {
                    TorchRuntime.SwapMkldnn(was);
                }
            }
        }
        catch (Exception)
        {
            // A fresh run that saved no epoch leaves nothing behind: there is nothing to resume, and a rerun starts clean.
            run.RemoveUnfinishedStart();
            throw;
        }
    }

    /// <summary>
    /// What --out holds, checked before anything is written (and again under the run's lock): with --resume, the
    /// checkpoint to continue (its last.json); without, nothing of an earlier run that could be continued or lost, and
    /// no file that is not a run's.
    /// </summary>
    private static TrainState? CheckOutDirectory(string outDir, bool resume)
    {
        var metricsPath = Path.Combine(outDir, MetricsFile);
        var statePath = Path.Combine(outDir, TrainState.FileName);
        if (resume)
        {
            if (!File.Exists(statePath) || !File.Exists(Path.Combine(outDir, LastFile)))
            {
                var missing = File.Exists(statePath) ? LastFile : File.Exists(Path.Combine(outDir, LastFile)) ? TrainState.FileName : $"{TrainState.FileName} and {LastFile}";
                throw ZetaPrepException.Usage(File.Exists(metricsPath)
                    ? $"--resume: {outDir} holds {MetricsFile} but no checkpoint to continue from ({missing} missing: the run was stopped while saving its first epoch, or the file was deleted); delete {outDir} (or choose another --out) and train again without --resume."
                    : $"--resume: no checkpoint in {outDir} ({missing} missing); train without --resume first.");
            }

            return TrainState.Read(statePath);
        }

        if (File.Exists(metricsPath) || File.Exists(statePath))
        {
            var hint = File.Exists(statePath)
                ? "pass --resume to continue it"
                : $"it has no checkpoint to continue ({TrainState.FileName} missing: the run was stopped while saving its first epoch, or the file was deleted), so delete {outDir} and train again";
            throw ZetaPrepException.Usage($"--out {outDir}: already holds a training run ({(File.Exists(metricsPath) ? MetricsFile : TrainState.FileName)}); {hint}, or choose another --out.");
        }

        RunFiles.RefuseForeignFiles(outDir);
        return null;
    }

    private async Task<TrainResult> TrainEpochsAsync(
        TrainOptions options, RunFiles run, nn.Module<Tensor, Tensor> model, TorchSharp.Modules.OptimizerHelper optimizer, List<ShardDirectory> data, List<string> files, long rows,
        IReadOnlyList<string> classes, int size, ValidationSet valSet, Device device, TrainState? resumed, ITrainProgress? progress, CancellationToken cancellationToken)
    {
        var lr = options.ResolvedLearningRate;
        var stepsPerEpoch = (int)ShardBatchStream.StepsPerEpoch(rows, options.BatchSize);
        var schedule = LearningRateSchedule.ForRun(lr, options.WarmupEpochs, stepsPerEpoch, options.Epochs);
        var stream = new ShardBatchStream(files, data, rows, classes.Count, _decoder, size, options.BatchSize, options.Threads, options.ShuffleBuffer, options.Augment, options.Seed);

        var history = resumed is null ? [] : ReadHistory(run.PathOf(MetricsFile), resumed.Epoch);
        var step = resumed?.Step ?? 0;
        var bestF1 = resumed?.BestF1Micro ?? double.NegativeInfinity;
        var bestEpoch = resumed?.BestEpoch ?? 0;
        var lastSaved = resumed?.Epoch ?? 0;
        for (var epoch = lastSaved + 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            model.train();
            double lossSum = 0;
            long seen = 0;
            var stepInEpoch = 0;
            var currentLr = schedule.At(step);
            await foreach (var batch in stream.ReadEpochAsync(epoch, cancellationToken).ConfigureAwait(false))
            {
                currentLr = schedule.At(step);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = currentLr;
                }

                var loss = TrainStep(model, optimizer, batch, size, classes.Count, device);
                stepInEpoch++;
                if (!double.IsFinite(loss))
                {
                    throw Diverged(options, run, string.Create(CultureInfo.InvariantCulture, $"the training loss became {loss} at epoch {epoch}, step {stepInEpoch} of {stepsPerEpoch}"), lastSaved);
                }

                lossSum += loss * batch.Count;
                seen += batch.Count;
                step++;
                progress?.Step(epoch, stepInEpoch, stepsPerEpoch, lossSum / seen, seen / clock.Elapsed.TotalSeconds);
            }

            var trainSeconds = clock.Elapsed.TotalSeconds;
            var eval = Evaluator.Evaluate(model, valSet, device, options.BatchSize, cancellationToken);
            if (!double.IsFinite(eval.Loss))
            {
                // The last step can overflow the weights with a finite loss: the model then predicts nothing, and must not become best.pt.
                throw Diverged(options, run, string.Create(CultureInfo.InvariantCulture, $"the validation loss after epoch {epoch} is {eval.Loss} (the weights overflowed)"), lastSaved);
            }

            var metrics = new EpochMetrics
            {
                Epoch = epoch,
                TrainLoss = lossSum / Math.Max(1, seen),
                ValLoss = eval.Loss,
                ValAccuracy = eval.Metrics.Accuracy,
                ValBalancedAccuracy = eval.Metrics.BalancedAccuracy,
                ValF1Micro = eval.Metrics.F1Micro,
                ValF1Macro = eval.Metrics.F1Macro,
                ImagesPerS = seen / trainSeconds,
                Lr = currentLr,
                Seconds = clock.Elapsed.TotalSeconds,
                ValConfusion = eval.Metrics.Confusion,
            };

            var isBest = metrics.ValF1Micro > bestF1;
            var newBestF1 = isBest ? metrics.ValF1Micro : bestF1;
            var newBestEpoch = isBest ? epoch : bestEpoch;
            List<EpochMetrics> withEpoch = [.. history, metrics];
            run.CommitEpoch(p => model.save(p), p => optimizer.save_state_dict(p), isBest, withEpoch, new TrainState(epoch, step, newBestF1, newBestEpoch));
            (history, bestF1, bestEpoch, lastSaved) = (withEpoch, newBestF1, newBestEpoch, epoch);
            run.WriteCurves(history);
            progress?.Epoch(metrics, options.Epochs);
        }

        return new TrainResult(history, bestEpoch, bestF1, run.PathOf(BestFile), run.Directory, device.ToString())
        {
            EpochsTrainedNow = Math.Max(0, options.Epochs - (resumed?.Epoch ?? 0)),
        };
    }

    /// <summary>A non-finite loss: the run stops (more steps only spread NaN), keeping the last saved epoch.</summary>
    private static ZetaPrepException Diverged(TrainOptions options, RunFiles run, string what, int lastSaved)
    {
        var kept = lastSaved > 0
            ? string.Create(CultureInfo.InvariantCulture, $"epochs 1–{lastSaved} stay saved in {run.Directory} (best.pt, last.pt)")
            : "nothing was saved";
        // Every step holds at least two images (ShardBatchStream.StepsPerEpoch), so BatchNorm cannot be the cause; a rate too high for the data is.
        return new ZetaPrepException(
            $"training diverged: {what}; {kept}. The usual cause is a learning rate too high for this model and data: train again into a new --out with a lower --lr (now {TrainOptions.Number(options.ResolvedLearningRate)}).");
    }

    /// <summary>Refuses a shard directory given twice in --data: its rows would be trained on twice per epoch.</summary>
    private static void CheckDistinctData(IReadOnlyList<string> dirs)
    {
        for (var i = 0; i < dirs.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (RunConfig.SamePath(dirs[i], dirs[j]))
                {
                    throw ZetaPrepException.Usage($"--data lists {dirs[j]} twice{(dirs[i] == dirs[j] ? "" : $" (also as {dirs[i]})")}; each row would be trained on twice per epoch: give each shard directory once.");
                }
            }
        }
    }

    /// <summary>Refuses an --out that is a --data directory or inside one: run files would sit among (or replace) the shards.</summary>
    private static void CheckOutsideData(string outDir, IReadOnlyList<ShardDirectory> data)
    {
        foreach (var d in data)
        {
            if (RunConfig.SamePath(outDir, d.Path) || IsInside(outDir, d.Path))
            {
                throw ZetaPrepException.Usage($"--out {outDir}: is {(RunConfig.SamePath(outDir, d.Path) ? "" : "inside ")}the --data directory {d.Path}; the run's files would mix with the shards: choose an --out outside it.");
            }
        }
    }

    private static bool IsInside(string path, string directory)
    {
        try
        {
            var dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + Path.DirectorySeparatorChar;
            return Path.GetFullPath(path).StartsWith(dir, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }

    private static double TrainStep(nn.Module<Tensor, Tensor> model, TorchSharp.Modules.OptimizerHelper optimizer, TrainBatch batch, int size, int classes, Device device)
    {
        using var scope = NewDisposeScope();
        var input = ImageTensors.ToInput(batch.Pixels, batch.Count, size, device);
        var target = tensor(batch.Labels, [batch.Count, classes]).to(device);
        optimizer.zero_grad();
        var loss = SoftCrossEntropy.Compute(model.call(input), target);
        loss.backward();
        optimizer.step();
        return loss.cpu().item<float>();
    }

    private static TorchSharp.Modules.OptimizerHelper CreateOptimizer(TrainOptions options, nn.Module model, double lr) => options.Optimizer switch
    {
        OptimizerKind.Sgd => optim.SGD(model.parameters(), lr, momentum: 0.9, weight_decay: options.WeightDecay, nesterov: true),
        OptimizerKind.AdamW => optim.AdamW(model.parameters(), lr, weight_decay: options.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, null),
    };

    /// <summary>Keeps the metrics of epochs the checkpoint covers; a line written after it (a crash in between) is dropped and redone.</summary>
    private static List<EpochMetrics> ReadHistory(string metricsPath, int lastEpoch)
    {
        var kept = new List<EpochMetrics>();
        if (!File.Exists(metricsPath))
        {
            return kept;
        }

        foreach (var line in File.ReadLines(metricsPath))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            EpochMetrics m;
            try
            {
                m = EpochMetrics.FromJsonLine(line);
            }
            catch (System.Text.Json.JsonException)
            {
                // A line cut short by a crash.
                continue;
            }

            if (m.Epoch <= lastEpoch)
            {
                kept.Add(m);
            }
        }

        // Not rewritten here: the next epoch's commit replaces the file whole (a rewrite in place could lose it).
        return kept;
    }

    /// <summary>The config.json of the run to continue, which records its options.</summary>
    private static RunConfig ReadRecordedConfig(string configPath)
    {
        try
        {
            return RunConfig.Read(configPath, advice: null);
        }
        catch (Exception e) when (e is ZetaPrepException or IOException)
        {
            // Bad data (exit 1), not a bad option; and evaluate's way on (--arch, --size) is not train's.
            var what = e switch
            {
                FileNotFoundException => $"{configPath}: missing",
                ZetaPrepException => e.Message.TrimEnd('.'),
                _ => $"{configPath}: cannot read ({e.Message.TrimEnd('.')})",
            };
            throw new ZetaPrepException($"--resume: {what}; that file records the options of the run to continue, so {TrainState.StartOver(configPath)}.", e);
        }
    }

    /// <summary>Refuses to continue a run with other data or weight-deciding options than it was started with, saying what differs (like <c>generate --resume</c>).</summary>
    private static void CheckResumable(string configPath, RunConfig recorded, RunConfig now, int epochs, int finishedEpoch)
    {
        var differences = recorded.ResumeDifferences(now).ToList();
        if (epochs < finishedEpoch)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"--epochs {epochs} is below the {finishedEpoch} epoch(s) already trained"));
        }

        if (differences.Count > 0)
        {
            throw ZetaPrepException.Usage($"--resume: {string.Join("; ", differences)}; rerun with the run's options (--epochs may be left out or grow, --threads and --device may change) or use a new --out ({configPath}).");
        }
    }

    /// <summary>The config.json of a run with these options over these shards and validation images.</summary>
    internal static RunConfig BuildConfig(TrainOptions o, IReadOnlyList<string> classes, int size, string device, string validation, int validationImages, IReadOnlyList<ShardDirectory> data) => new()
    {
        Architecture = o.Architecture.ToString().ToLowerInvariant(),
        Classes = classes,
        Size = size,
        Epochs = o.Epochs,
        BatchSize = o.BatchSize,
        Lr = o.ResolvedLearningRate,
        Optimizer = o.Optimizer == OptimizerKind.Sgd ? "sgd (momentum 0.9, nesterov)" : "adamw",
        WeightDecay = o.WeightDecay,
        WarmupEpochs = o.WarmupEpochs,
        Schedule = "linear warm-up then cosine to 0, per step",
        Seed = o.Seed,
        Device = device,
        Threads = o.Threads,
        Augment = o.Augment == AugmentMode.None ? "none" : "flip-crop",
        ShuffleBuffer = o.ShuffleBuffer,
        // Absolute, so that a --resume from another working directory names the same file (old relative ones still compare by SamePath).
        Pretrained = o.PretrainedPath is null ? null : Path.GetFullPath(o.PretrainedPath),
        Normalization = "imagenet mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)",
        Validation = validation,
        ValidationImages = validationImages,
        Data = [.. data.Select(d => d.Info)],
        TrainRows = data.Sum(d => d.Rows),
    };
}
