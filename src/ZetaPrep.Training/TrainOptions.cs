using System.Globalization;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Training;

/// <summary>Everything <c>zetaprep train</c> resolves from its options; <see cref="Validate"/> names the bad option.</summary>
public sealed record TrainOptions
{
    /// <summary>Shard directories (outputs of <c>zetaprep generate</c>) read together as one training set.</summary>
    public required IReadOnlyList<string> DataDirectories { get; init; }

    /// <summary>Output directory for metrics.jsonl, checkpoints, config.json and curves.png.</summary>
    public required string OutputDirectory { get; init; }

    public TrainArchitecture Architecture { get; init; } = TrainArchitecture.ResNet18;

    /// <summary>TorchSharp weights (e.g. ImageNet ResNet) to start from; a final layer of another size is skipped.</summary>
    public string? PretrainedPath { get; init; }

    public int Epochs { get; init; } = 10;

    public int BatchSize { get; init; } = 32;

    /// <summary>Peak learning rate; default 0.1 for SGD and 0.001 for AdamW.</summary>
    public double? LearningRate { get; init; }

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    public double WeightDecay { get; init; } = 5e-4;

    public double WarmupEpochs { get; init; } = 1;

    /// <summary>Training and validation image side; null = the shards' image size.</summary>
    public int? Size { get; init; }

    public ulong Seed { get; init; }

    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>PNG decode (and augment) workers.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    public AugmentMode Augment { get; init; } = AugmentMode.None;

    /// <summary>Rows held in the shuffle buffer (streamed shards are shuffled within it).</summary>
    public int ShuffleBuffer { get; init; } = 4096;

    /// <summary>Continue from OUT/last.pt after its recorded epoch.</summary>
    public bool Resume { get; init; }

    /// <summary>With <see cref="Resume"/>: train to the epochs the run's config.json records, not <see cref="Epochs"/> (the CLI sets this when --epochs is not given).</summary>
    public bool EpochsFromRun { get; init; }

    /// <summary>The peak learning rate after defaults.</summary>
    public double ResolvedLearningRate => LearningRate ?? (Optimizer == OptimizerKind.Sgd ? 0.1 : 1e-3);

    /// <summary>Throws a usage <see cref="ZetaPrepException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (DataDirectories.Count == 0)
        {
            throw ZetaPrepException.Usage("--data: give at least one shard directory.");
        }

        Require(Epochs >= 1, "--epochs", Epochs, "at least 1");
        // BatchNorm in training mode needs two images per step (one gives a NaN running variance at small sizes).
        Require(BatchSize is >= 2 and <= MaxBatchSize, "--batch-size", BatchSize, "from 2 to 65536");
        // Floats go to TorchSharp as float32: a value past its range (1e300) passes as a double and overflows in the optimiser.
        RequireNumber(ResolvedLearningRate, MinLearningRate, MaxLearningRate, "--lr");
        RequireNumber(WeightDecay, 0, MaxWeightDecay, "--weight-decay");
        RequireNumber(WarmupEpochs, 0, MaxWarmupEpochs, "--warmup-epochs");
        Require(Size is null or (>= 8 and <= 4096), "--size", Size ?? 0, "between 8 and 4096");
        Require(Threads is >= 1 and <= GenerateOptions.MaxThreads, "--threads", Threads, ThreadRange);
        Require(ShuffleBuffer >= 1, "--shuffle-buffer", ShuffleBuffer, "at least 1");
        if (PretrainedPath is not null && Directory.Exists(PretrainedPath))
        {
            throw ZetaPrepException.Usage($"--pretrained {PretrainedPath}: is a directory; give the weights file (saved with TorchSharp's model.save).");
        }

        if (PretrainedPath is not null && !File.Exists(PretrainedPath))
        {
            throw ZetaPrepException.Usage($"--pretrained {PretrainedPath}: file not found.");
        }
    }

    /// <summary>Smallest accepted --lr: well inside float32's normal range, and below any rate that still moves the weights.</summary>
    public const double MinLearningRate = 1e-10;

    /// <summary>Largest accepted --lr: ResNets diverge far below it; above it the value is a typo (1e3 for 1e-3).</summary>
    public const double MaxLearningRate = 1000;

    /// <summary>Largest accepted --weight-decay.</summary>
    public const double MaxWeightDecay = 1;

    /// <summary>Largest accepted --warmup-epochs.</summary>
    public const double MaxWarmupEpochs = 10000;

    /// <summary>--threads' range, generate's: each worker is a task with its own batch in flight.</summary>
    internal static readonly string ThreadRange = string.Create(CultureInfo.InvariantCulture, $"an integer from 1 to {GenerateOptions.MaxThreads}");

    /// <summary>Largest accepted --batch-size.</summary>
    public const int MaxBatchSize = 65536;

    private static void RequireNumber(double value, double min, double max, string option) =>
        Require(double.IsFinite(value) && value >= min && value <= max, option, value, $"a number from {Number(min)} to {Number(max)}");

    /// <summary>Shortest round-trip form, exponents as typed on a command line (1e-8 and 1e300, not 1E-08 and 1E+300).</summary>
    internal static string Number(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return text;
        }

        var exponent = text[(e + 1)..].TrimStart('+');
        var negative = exponent.StartsWith('-');
        var digits = exponent.TrimStart('-').TrimStart('0');
        return $"{text[..e]}e{(negative ? "-" : "")}{(digits.Length == 0 ? "0" : digits)}";
    }

    private static void Require(bool ok, string option, double value, string what)
    {
        if (!ok)
        {
            throw ZetaPrepException.Usage($"{option} must be {what} (got {Number(value)}).");
        }
    }
}
