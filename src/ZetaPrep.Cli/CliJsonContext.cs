using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZetaPrep.Cli;

/// <summary>
/// Compile-time JSON metadata for the --json payloads of evaluate and analyze: a name → value map whose values are
/// the types listed here (serialized by their run-time type). The published tool is native AOT, where
/// reflection-based serialization is disabled.
/// NaN and ±Infinity (a diverged model's loss) are written as the strings "NaN", "Infinity", "-Infinity", as
/// metrics.jsonl writes them: valid JSON for every reader, unlike bare literals.
/// </summary>
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(Dictionary<string, int>))]
[JsonSerializable(typeof(long[][]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(double))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>One line of JSON for a --json payload.</summary>
    public static string Serialize(Dictionary<string, object> payload) => JsonSerializer.Serialize(payload, Default.DictionaryStringObject);
}
