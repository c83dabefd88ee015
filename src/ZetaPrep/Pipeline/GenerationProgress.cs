namespace ZetaPrep.Pipeline;

/// <summary>A progress report: rows written so far of the planned total, and the time since the run started.</summary>
public readonly record struct GenerationProgress(long RowsDone, long RowsTotal, int ShardsDone, int ShardsTotal, TimeSpan Elapsed);
