namespace ZetaPrep.Sources;

/// <summary>One original image: its id (relative path with '/'), class and, where the source has one, a soft or multi-hot label.</summary>
public sealed record SourceItem(string Id, int ClassIndex, long Size, float[]? SoftLabel = null);
