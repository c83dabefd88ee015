using System.Text.Json;
using System.Text.Json.Serialization;
using ZetaPrep.Manifests;

namespace ZetaPrep.Training;

/// <summary>OUT/config.json: the resolved options of a training run, its classes and the shard directories it read.</summary>
public sealed record RunConfig
{
    public const string FileName = "config.json";

    public required string Architecture { get; init; }

    public required IReadOnlyList<string> Classes { get; init; }

    public required int Size { get; init; }

    public required int Epochs { get; init; }

    public required int BatchSize { get; init; }

    public required double Lr { get; init; }

    public required string Optimizer { get; init; }

    public required double WeightDecay { get; init; }

    public required double WarmupEpochs { get; init; }

    public required string Schedule { get; init; }

    public required ulong Seed { get; init; }

    public required string Device { get; init; }

    public required int Threads { get; init; }

    public required string Augment { get; init; }

    public required int ShuffleBuffer { get; init; }

    public string? Pretrained { get; init; }

    public required string Normalization { get; init; }

    public required string Validation { get; init; }

    public required int ValidationImages { get; init; }

    public required IReadOnlyList<ShardSourceInfo> Data { get; init; }

    public required long TrainRows { get; init; }

    internal static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = TrainingJsonContext.Default,
    };

    /// <summary>Reads a config.json; a malformed file is a <see cref="ZetaPrepException"/> naming it.</summary>
    public static RunConfig Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), JsonOptions.Info<RunConfig>())
                ?? throw new ZetaPrepException($"{path}: empty run config.");
        }
        catch (JsonException e)
        {
            throw new ZetaPrepException($"{path}: not a valid zetaprep train config.json ({e.Message}); pass --arch, --size explicitly or fix the file.", e);
        }
    }

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions.Info<RunConfig>()) + "\n");
}
