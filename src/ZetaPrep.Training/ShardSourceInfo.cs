namespace ZetaPrep.Training;

/// <summary>A shard directory as recorded in config.json: path, rows, and its manifest's input fingerprint and SHA-256.</summary>
public sealed record ShardSourceInfo(string Path, int Shards, long Rows, int ImageSize, string? InputFingerprint, string? ManifestSha256);
