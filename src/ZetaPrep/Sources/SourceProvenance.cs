namespace ZetaPrep.Sources;

/// <summary>Where a listing came from beyond its path: the preset and split, and each input file's size and SHA-256.</summary>
public sealed record SourceProvenance(string? Preset, string? Split, IReadOnlyList<SourceFile> Files);

/// <summary>One input file (a downloaded archive or label file): name, size and SHA-256 (lower-case hex).</summary>
public sealed record SourceFile(string Name, long Bytes, string Sha256);
