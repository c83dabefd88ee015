using System.CommandLine;
using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Training;

namespace ZetaPrep.Cli;

/// <summary>`zetaprep train`: the definition (options with defaults) and the handler.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Option<string[]>("--data") { Description = "Shard directories, read together: outputs of 'zetaprep generate' in any --format (read as their manifest.json names it), or folders of .parquet shards.", Required = true, AllowMultipleArgumentsPerToken = true };
        var val = new Option<string>("--val") { Description = "Validation images: an ImageFolder directory or an unmixed shard directory.", Required = true };
        var output = new Option<string>("--out") { Description = "Run directory for metrics.jsonl, best.pt, last.*, config.json and curves.png.", Required = true };
        var arch = new Option<string>("--arch") { Description = "TorchVision architecture.", DefaultValueFactory = _ => "resnet18" };
        arch.AcceptOnlyFromAmong("resnet18", "resnet50");
        var pretrained = new Option<string?>("--pretrained") { Description = "TorchSharp weights to start from (model.save format); the final fc layer is skipped and trained fresh." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs over the shards (with --resume, default: the run's).", DefaultValueFactory = _ => 10 }.Within(1, int.MaxValue);
        var batchSize = new Option<int>("--batch-size") { Description = "Images per training step (2 to 65536).", DefaultValueFactory = _ => 32 }.Within(2, TrainOptions.MaxBatchSize);
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate, 1e-10 to 1000 (default 0.1 for sgd, 0.001 for adamw)." }.Within("from 1e-10 to 1000");
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum 0.9, Nesterov) or adamw.", DefaultValueFactory = _ => "sgd" };
        optimizer.AcceptOnlyFromAmong("sgd", "adamw");
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay, 0 to 1.", DefaultValueFactory = _ => 5e-4 }.Within(0, TrainOptions.MaxWeightDecay);
        var warmup = new Option<double>("--warmup-epochs") { Description = "Linear warm-up epochs before the cosine decay (per step), 0 to 10000.", DefaultValueFactory = _ => 1.0 }.Within(0, TrainOptions.MaxWarmupEpochs);
        var size = new Option<int?>("--size") { Description = "Image side for training and validation, 8 to 4096 (default: the shards' image size; required when --data directories differ in it)." }.Within(8, 4096);
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, shuffling and augmentation.", DefaultValueFactory = _ => 0UL };
        var device = new Option<string>("--device") { Description = "auto (CUDA when available), cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var threads = new Option<int>("--threads") { Description = "PNG decode/augment workers (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount }.Within(1, GenerateOptions.MaxThreads);
        var augment = new Option<string>("--augment") { Description = "none, or flip-crop: random resized crop (60–100 % area), rotation ±10°, horizontal flip.", DefaultValueFactory = _ => "none" };
        augment.AcceptOnlyFromAmong("none", "flip-crop");
        var shuffle = new Option<int>("--shuffle-buffer") { Description = "Rows held for shuffling the streamed shards.", DefaultValueFactory = _ => 4096 }.Within(1, int.MaxValue);
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out after its last saved epoch." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr." };

        var command = new Command("train", "Train a ResNet on ζ-mixup shards (soft-label cross-entropy) and evaluate on original images each epoch.")
        {
            data, val, output, arch, pretrained, epochs, batchSize, lr, optimizer, weightDecay, warmup, size, seed, device, threads, augment, shuffle, resume, quiet,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new TrainOptions
            {
                DataDirectories = parse.GetValue(data)!,
                OutputDirectory = parse.GetValue(output)!,
                Architecture = Enum.Parse<TrainArchitecture>(parse.GetValue(arch)!, ignoreCase: true),
                PretrainedPath = parse.GetValue(pretrained),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(lr),
                Optimizer = Enum.Parse<OptimizerKind>(parse.GetValue(optimizer)!, ignoreCase: true),
                WeightDecay = parse.GetValue(weightDecay),
                WarmupEpochs = parse.GetValue(warmup),
                Size = parse.GetValue(size),
                Seed = parse.GetValue(seed),
                Device = Enum.Parse<DeviceChoice>(parse.GetValue(device)!, ignoreCase: true),
                Threads = parse.GetValue(threads),
                Augment = parse.GetValue(augment) == "flip-crop" ? AugmentMode.FlipCrop : AugmentMode.None,
                ShuffleBuffer = parse.GetValue(shuffle),
                Resume = parse.GetValue(resume),
                // --resume without --epochs continues the run to the epochs it was started with.
                EpochsFromRun = parse.GetResult(epochs) is not { Implicit: false },
            };
            options.Validate();
            var validation = await ValidationInput.OpenAsync(parse.GetValue(val)!, ct).ConfigureAwait(false);
            var progress = new TrainProgressReporter(stderr, enabled: !parse.GetValue(quiet) && !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error));
            TrainResult result;
            try
            {
                var trainer = new Trainer(new SkiaImageDecoder()) { Notes = note => stderr.WriteLine($"zetaprep: note: {note}") };
                result = await trainer.RunAsync(options, validation, progress, ct).ConfigureAwait(false);
            }
            finally
            {
                progress.Finish();
            }

            if (result.Epochs.Count > 0)
            {
                var last = result.Epochs[^1];
                var best = result.Epochs.First(e => e.Epoch == result.BestEpoch);
                // A --resume of a run that had trained every epoch trains none: said so, not "trained … for N epoch(s)" (QA).
                var what = result.EpochsTrainedNow == 0
                    ? $"nothing to train: {options.Architecture.ToString().ToLowerInvariant()} in {result.OutputDirectory} had already trained {last.Epoch} epoch(s) on {result.Device}"
                    : $"trained {options.Architecture.ToString().ToLowerInvariant()} for {last.Epoch} epoch(s) on {result.Device}";
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: last val accuracy {last.ValAccuracy:F4}, macro-F1 {last.ValF1Macro:F4}, {last.ImagesPerS:F1} images/s")).ConfigureAwait(false);
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"best epoch {best.Epoch}: val accuracy (= micro-F1) {best.ValAccuracy:F4}, balanced accuracy {best.ValBalancedAccuracy:F4}, macro-F1 {best.ValF1Macro:F4}; saved {result.BestCheckpoint}")).ConfigureAwait(false);
            }

            var written = Trainer.RunFileNames.Where(name => File.Exists(Path.Combine(result.OutputDirectory, name)));
            await stdout.WriteLineAsync($"run files in {result.OutputDirectory}: {string.Join(", ", written)}").ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
