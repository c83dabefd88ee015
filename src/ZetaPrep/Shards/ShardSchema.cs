namespace ZetaPrep.Shards;

/// <summary>What every shard of a dataset shares: class names for the HuggingFace ClassLabel and the generation settings as JSON (metadata key <c>zetaprep</c>).</summary>
public sealed record ShardSchema(IReadOnlyList<string> ClassNames, string GenerationJson);
