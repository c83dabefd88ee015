namespace ZetaPrep.Training;

/// <summary>What <see cref="MethodComparison"/> produced: every run, one summary per method (in --methods order) and the report files.</summary>
public sealed record ComparisonResult(IReadOnlyList<ComparisonRun> Runs, IReadOnlyList<MethodSummary> Summaries, string MarkdownPath, string JsonPath, string ChartPath);
