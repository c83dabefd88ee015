using System.Globalization;
using ZetaPrep.Mixing;

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
        Require(BatchSize >= 1, "--batch-size", BatchSize, "at least 1");
        Require(ResolvedLearningRate > 0 && double.IsFinite(ResolvedLearningRate), "--lr", ResolvedLearningRate, "a positive number");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "--weight-decay", WeightDecay, "zero or positive");
        Require(WarmupEpochs >= 0 && double.IsFinite(WarmupEpochs), "--warmup-epochs", WarmupEpochs, "zero or positive");
        Require(Size is null or (>= 8 and <= 4096), "--size", Size ?? 0, "between 8 and 4096");
        Require(Threads >= 1, "--threads", Threads, "at least 1");
        Require(ShuffleBuffer >= 1, "--shuffle-buffer", ShuffleBuffer, "at least 1");
        if (PretrainedPath is not null && !File.Exists(PretrainedPath))
        {
            throw ZetaPrepException.Usage($"--pretrained {PretrainedPath}: file not found.");
        }
    }

    private static void Require(bool ok, string option, double value, string what)
    {
        if (!ok)
        {
            throw ZetaPrepException.Usage($"{option} must be {what} (got {value.ToString(CultureInfo.InvariantCulture)}).");
        }
    }
}
