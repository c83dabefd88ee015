namespace ZetaPrep.Shards;

/// <summary>A committed shard file: final path, row count, size in bytes and lower-case hex SHA-256 of its bytes.</summary>
public sealed record ShardFileInfo(string Path, long Rows, long Bytes, string Sha256Hex);
