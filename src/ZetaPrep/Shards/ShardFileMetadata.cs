namespace ZetaPrep.Shards;

/// <summary>What a shard's footer says: class names (HuggingFace ClassLabel), the generation JSON and the row count.</summary>
public sealed record ShardFileMetadata(IReadOnlyList<string> ClassNames, string GenerationJson, long Rows);
