using System.Text.Json.Serialization;

namespace ZetaPrep.Manifests;

/// <summary>
/// Compile-time JSON metadata for the manifest and the presets, which every generate run reads or writes. The options
/// (naming, indentation, enum names) stay in <see cref="GenerationManifest.JsonOptions"/> and
/// <see cref="DatasetPresets.JsonOptions"/>; this resolver only replaces the reflection that built each type's
/// converters at run time, which ReadyToRun cannot precompile (it cost ~0.1 s of JIT per process).
/// </summary>
[JsonSerializable(typeof(GenerationManifest))]
[JsonSerializable(typeof(DatasetPreset))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
