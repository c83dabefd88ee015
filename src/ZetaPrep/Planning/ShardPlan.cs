namespace ZetaPrep.Planning;

/// <summary>Shard <see cref="Index"/> of <see cref="Count"/>: whole batches [FirstBatch, FirstBatch + BatchCount).</summary>
public sealed record ShardPlan(int Index, int Count, int FirstBatch, int BatchCount, long FirstRow, int Rows);
