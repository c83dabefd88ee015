using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ZetaPrep.Manifests;

/// <summary>Typed metadata from options whose resolver is a compile-time <c>JsonSerializerContext</c>.</summary>
/// <remarks>
/// The published tool is compiled ahead of time (native AOT), where reflection-based serialization is disabled: every
/// serializer call goes through a <see cref="JsonTypeInfo{T}"/> taken from options whose TypeInfoResolver is a
/// source-generated context. A type the context does not list fails at the first call, in tests too.
/// </remarks>
public static class JsonTypeInfoExtensions
{
    /// <summary>The metadata for <typeparamref name="T"/> under <paramref name="options"/> (naming, indentation, converters).</summary>
    public static JsonTypeInfo<T> Info<T>(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }
}
