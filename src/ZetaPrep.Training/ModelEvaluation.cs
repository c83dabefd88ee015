using System.Globalization;
using TorchSharp;
using ZetaPrep.Mixing;

namespace ZetaPrep.Training;

/// <summary>Re-evaluates a saved checkpoint on a validation set; architecture, classes and size come from config.json beside it when present.</summary>
public static class ModelEvaluation
{
    /// <summary>Loads <paramref name="modelPath"/> and returns its loss and metrics on <paramref name="validation"/>.</summary>
    public static async Task<EvaluationResult> RunAsync(
        string modelPath, IValidationSource validation, TrainArchitecture? architecture, int? size, DeviceChoice deviceChoice, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(validation);
        CheckOptions(size, batchSize);
        if (Directory.Exists(modelPath))
        {
            throw ZetaPrepException.Usage($"--model {modelPath}: is a directory; give a checkpoint file, e.g. {Path.Combine(modelPath, Trainer.BestFile)}.");
        }

        if (!File.Exists(modelPath))
        {
            throw ZetaPrepException.Usage($"--model {modelPath}: file not found.");
        }

        TorchRuntime.EnsureLoaded();
        TorchRuntime.RegisterAssembly(typeof(torchvision).Assembly);
        var configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, RunConfig.FileName);
        var config = File.Exists(configPath) ? RunConfig.Read(configPath) : null;
        var arch = architecture
            ?? (config is null ? (TrainArchitecture?)null : Enum.Parse<TrainArchitecture>(config.Architecture, ignoreCase: true))
            ?? throw ZetaPrepException.Usage($"--arch: no {configPath} beside the model; pass --arch.");
        var side = size ?? config?.Size ?? throw ZetaPrepException.Usage($"--size: no {configPath} beside the model; pass --size.");
        RequireSize(side, $"{configPath}: size");
        var valClasses = await validation.ReadClassNamesAsync(cancellationToken).ConfigureAwait(false);
        if (config is not null && !config.Classes.SequenceEqual(valClasses, StringComparer.Ordinal))
        {
            throw new ZetaPrepException($"--val {validation.Description}: classes [{string.Join(", ", valClasses)}] differ from the model's [{string.Join(", ", config.Classes)}] in {configPath}{ValidationSet.EmptyClassFolders(validation, valClasses, config.Classes)}.");
        }

        var set = await ValidationSet.LoadAsync(validation, side, cancellationToken).ConfigureAwait(false);
        var device = TorchRuntime.ResolveDevice(deviceChoice);
        using var model = ModelFactory.Create(arch, (config?.Classes ?? valClasses).Count);
        Checkpoint.Load(model, modelPath, "--model");
        model.to(device);
        return Evaluator.Evaluate(model, set, device, batchSize, cancellationToken);
    }

    /// <summary>Refuses a --size or --batch-size out of range; the CLI calls it before --val is opened, so a bad number is named first.</summary>
    public static void CheckOptions(int? size, int batchSize)
    {
        if (batchSize < 1)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--batch-size must be at least 1 (got {batchSize})."));
        }

        RequireSize(size, "--size");
    }

    /// <summary>The image sides training accepts (train --size); anything else cannot be a model's input size.</summary>
    private static void RequireSize(int? size, string what)
    {
        if (size is not null and not (>= 8 and <= 4096))
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"{what} must be between 8 and 4096 (got {size}), as for train."));
        }
    }
}
