using ZetaPrep.Manifests;

namespace ZetaPrep.Pipeline;

/// <summary>What a finished run wrote: the manifest (also at OUT/manifest.json) and its path.</summary>
public sealed record GenerationResult(GenerationManifest Manifest, string ManifestPath);
