using System.Text.Json.Serialization;

namespace ZetaPrep.Manifests;

/// <summary>
/// Compile-time JSON metadata for the manifest, the presets and the inspect summary. The options (naming, indentation,
/// enum names) stay in <see cref="GenerationManifest.JsonOptions"/>, <see cref="DatasetPresets.JsonOptions"/> and the
/// summary's own; this resolver replaces the reflection that would build each type's converters at run time, which the
/// native-AOT build does not have (<see cref="JsonTypeInfoExtensions"/>).
/// </summary>
[JsonSerializable(typeof(GenerationManifest))]
[JsonSerializable(typeof(DatasetPreset))]
[JsonSerializable(typeof(ZetaPrep.Inspection.DatasetSummary))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
