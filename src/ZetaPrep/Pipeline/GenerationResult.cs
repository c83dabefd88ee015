using ZetaPrep.Manifests;

namespace ZetaPrep.Pipeline;

/// <summary>What a finished run wrote: the manifest (also at OUT/manifest.json) and its path.</summary>
public sealed record GenerationResult(GenerationManifest Manifest, string ManifestPath)
{
    /// <summary>What the user should know about the run that is not an error (one line each), e.g. class folders without images.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>A --resume of a finished output whose shards were all intact: nothing was written, the manifest is the earlier run's.</summary>
    public bool NothingToDo { get; init; }
}
