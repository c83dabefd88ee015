using System.Text.Json.Serialization;

namespace ZetaPrep.Training;

/// <summary>
/// Compile-time JSON metadata for what training reads and writes (config.json, state.json, metrics.jsonl, a comparison's
/// results.json); the options (naming, null handling) stay where each file is written.
/// The published tool is native AOT, where reflection-based serialization is disabled.
/// </summary>
[JsonSerializable(typeof(RunConfig))]
[JsonSerializable(typeof(TrainState))]
[JsonSerializable(typeof(EpochMetrics))]
[JsonSerializable(typeof(ComparisonReportFile))]
internal sealed partial class TrainingJsonContext : JsonSerializerContext;

/// <summary>results.json of <c>zetaprep compare</c>: the options, how std is computed, per-method summaries and every run.</summary>
internal sealed record ComparisonReportFile(ComparisonReportOptions Options, string Std, IReadOnlyList<MethodSummary> Summaries, IReadOnlyList<ComparisonRun> Runs);

/// <summary>The options block of results.json.</summary>
internal sealed record ComparisonReportOptions(
    string Input, string? Val, IReadOnlyList<string> Methods, int Seeds, int Epochs, int Size, string Arch, int BatchSize, string? N, string? Gamma, int K, int MaxSamples);
