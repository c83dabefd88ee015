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

    /// <summary>Runs (or with <see cref="TrainOptions.Resume"/> continues) training and writes every output file under the output directory.</summary>
    public async Task<TrainResult> RunAsync(TrainOptions options, IValidationSource validation, ITrainProgress? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(validation);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        TorchRuntime.RegisterAssembly(typeof(torchvision).Assembly);

        var data = new List<ShardDirectory>();
        foreach (var dir in options.DataDirectories)
        {
            var shards = await ShardDirectory.OpenAsync(dir, "--data", cancellationToken).ConfigureAwait(false);
            if (data.Count > 0 && !data[0].ClassNames.SequenceEqual(shards.ClassNames, StringComparer.Ordinal))
            {
                throw new ZetaPrepException($"--data {dir}: classes [{string.Join(", ", shards.ClassNames)}] differ from {data[0].Path}'s [{string.Join(", ", data[0].ClassNames)}]; train on shards of one label space.");
            }

            data.Add(shards);
        }

        var classes = data[0].ClassNames;
        var size = options.Size ?? data[0].ImageSize;
        var valClasses = await validation.ReadClassNamesAsync(cancellationToken).ConfigureAwait(false);
        if (!valClasses.SequenceEqual(classes, StringComparer.Ordinal))
        {
            throw new ZetaPrepException($"--val {validation.Description}: classes [{string.Join(", ", valClasses)}] ({valClasses.Count}) differ from the shards' [{string.Join(", ", classes)}] ({classes.Count}); validate on the same label space.");
        }

        var outDir = options.OutputDirectory;
        var metricsPath = Path.Combine(outDir, MetricsFile);
        var statePath = Path.Combine(outDir, TrainState.FileName);
        TrainState? resumed = null;
        if (options.Resume)
        {
            if (!File.Exists(statePath) || !File.Exists(Path.Combine(outDir, LastFile)))
            {
                throw ZetaPrepException.Usage(File.Exists(metricsPath)
                    ? $"--resume: no checkpoint in {outDir} ({TrainState.FileName} or {LastFile} missing): the run stopped while saving its first one; delete {outDir} and train again without --resume."
                    : $"--resume: no checkpoint in {outDir} ({TrainState.FileName} and {LastFile} missing); train without --resume first.");
            }

            resumed = TrainState.Read(statePath);
        }
        else if (File.Exists(metricsPath))
        {
            // Metrics but no checkpoint: the run stopped while saving its first one, so --resume has nothing to continue.
            var hint = File.Exists(statePath) ? "pass --resume to continue it" : $"its first checkpoint was never saved, so --resume cannot continue it: delete {outDir} and train again";
            throw ZetaPrepException.Usage($"--out {outDir}: already holds a training run ({MetricsFile}); {hint}, or choose another --out.");
        }

        Directory.CreateDirectory(outDir);
        var valSet = await ValidationSet.LoadAsync(validation, size, cancellationToken).ConfigureAwait(false);
        var device = TorchRuntime.ResolveDevice(options.Device);

        var files = data.SelectMany(d => d.Files).ToList();
        var rows = data.Sum(d => d.Rows);
        var config = BuildConfig(options, classes, size, device.ToString(), valSet.Description, valSet.Count, data);
        var configPath = Path.Combine(outDir, RunConfig.FileName);
        if (resumed is not null)
        {
            CheckResumable(configPath, config, options.Epochs, resumed.Epoch);
        }

        // On --resume only the epochs, device and threads can have changed (CheckResumable), so the provenance of best.pt holds.
        config.Write(configPath);

        torch.manual_seed(unchecked((long)options.Seed));
        using var model = ModelFactory.Create(options.Architecture, classes.Count);
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

        var stepsPerEpoch = (int)((rows + options.BatchSize - 1) / options.BatchSize);
        var schedule = new LearningRateSchedule(lr, (long)Math.Round(options.WarmupEpochs * stepsPerEpoch), (long)stepsPerEpoch * options.Epochs);
        var stream = new ShardBatchStream(files, classes.Count, _decoder, size, options.BatchSize, options.Threads, options.ShuffleBuffer, options.Augment, options.Seed);

        var history = resumed is null ? [] : ReadHistory(metricsPath, resumed.Epoch);
        var step = resumed?.Step ?? 0;
        var bestF1 = resumed?.BestF1Micro ?? double.NegativeInfinity;
        var bestEpoch = resumed?.BestEpoch ?? 0;
        var bestPath = Path.Combine(outDir, BestFile);
        for (var epoch = (resumed?.Epoch ?? 0) + 1; epoch <= options.Epochs; epoch++)
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

                lossSum += TrainStep(model, optimizer, batch, size, classes.Count, device) * batch.Count;
                seen += batch.Count;
                step++;
                stepInEpoch++;
                progress?.Step(epoch, stepInEpoch, stepsPerEpoch, lossSum / seen, seen / clock.Elapsed.TotalSeconds);
            }

            var trainSeconds = clock.Elapsed.TotalSeconds;
            var eval = Evaluator.Evaluate(model, valSet, device, options.BatchSize, cancellationToken);
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

            if (metrics.ValF1Micro > bestF1)
            {
                bestF1 = metrics.ValF1Micro;
                bestEpoch = epoch;
                Checkpoint.Save(model, bestPath);
            }

            // Order matters for --resume: metrics line, then checkpoint, then last.json naming the epoch they end.
            await File.AppendAllTextAsync(metricsPath, metrics.ToJsonLine() + "\n", cancellationToken).ConfigureAwait(false);
            Checkpoint.Save(model, Path.Combine(outDir, LastFile));
            Checkpoint.Save(optimizer, Path.Combine(outDir, LastOptimizerFile));
            new TrainState(epoch, step, bestF1, bestEpoch).Write(statePath);
            history.Add(metrics);
            CurvePlotter.Write(history, Path.Combine(outDir, CurvesFile));
            progress?.Epoch(metrics, options.Epochs);
        }

        return new TrainResult(history, bestEpoch, bestF1, bestPath, outDir, device.ToString());
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

        File.WriteAllLines(metricsPath, kept.Select(m => m.ToJsonLine()));
        return kept;
    }

    /// <summary>Refuses to continue a run with other data or weight-deciding options than it was started with, saying what differs (like <c>generate --resume</c>).</summary>
    private static void CheckResumable(string configPath, RunConfig now, int epochs, int finishedEpoch)
    {
        RunConfig recorded;
        try
        {
            recorded = RunConfig.Read(configPath);
        }
        catch (Exception e) when (e is ZetaPrepException or IOException)
        {
            throw ZetaPrepException.Usage($"--resume: cannot read {configPath}, which records the options of the run to continue ({(e is FileNotFoundException ? "missing" : e.Message.TrimEnd('.'))}); train into a new --out.");
        }

        var differences = recorded.ResumeDifferences(now).ToList();
        if (epochs < finishedEpoch)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"--epochs {epochs} is below the {finishedEpoch} epoch(s) already trained"));
        }

        if (differences.Count > 0)
        {
            throw ZetaPrepException.Usage($"--resume: {string.Join("; ", differences)}; rerun with the run's options (only --epochs may grow, --threads and --device may change) or use a new --out ({configPath}).");
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
        Pretrained = o.PretrainedPath,
        Normalization = "imagenet mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)",
        Validation = validation,
        ValidationImages = validationImages,
        Data = [.. data.Select(d => d.Info)],
        TrainRows = data.Sum(d => d.Rows),
    };
}
