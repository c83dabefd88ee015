using System.Text.Json;
using System.Text.Json.Serialization;
using ZetaPrep.Manifests;

namespace ZetaPrep.Training;

/// <summary>One line of OUT/metrics.jsonl: training and validation figures after an epoch (1-based).</summary>
public sealed record EpochMetrics
{
    public required int Epoch { get; init; }

    public required double TrainLoss { get; init; }

    public required double ValLoss { get; init; }

    public required double ValAccuracy { get; init; }

    public required double ValBalancedAccuracy { get; init; }

    public required double ValF1Micro { get; init; }

    public required double ValF1Macro { get; init; }

    /// <summary>Training images per second over the epoch (decode + forward + backward; validation not counted).</summary>
    public required double ImagesPerS { get; init; }

    /// <summary>Learning rate at the epoch's last step.</summary>
    public required double Lr { get; init; }

    /// <summary>Wall time of the epoch including validation.</summary>
    public required double Seconds { get; init; }

    public required long[][] ValConfusion { get; init; }

    internal static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = TrainingJsonContext.Default,
    };

    public string ToJsonLine() => JsonSerializer.Serialize(this, JsonOptions.Info<EpochMetrics>());

    public static EpochMetrics FromJsonLine(string line) =>
        JsonSerializer.Deserialize(line, JsonOptions.Info<EpochMetrics>()) ?? throw new JsonException("null metrics line");
}
