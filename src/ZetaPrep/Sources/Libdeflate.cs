using System.Runtime.InteropServices;

namespace ZetaPrep.Sources;

/// <summary>
/// Whole-buffer decompression with the system's libdeflate (Debian package libdeflate0), used when it loads for zip
/// entries (raw deflate: ~0.95 ms for a 1.1 MB deflated JPEG here, against ~1.2 ms for zlib-ng through
/// <see cref="System.IO.Compression.DeflateStream"/>) and the PNG check's image data (zlib). Optional: without it,
/// both inflate through .NET's zlib-ng.
/// </summary>
public static unsafe class Libdeflate
{
    /// <summary>The shared object loaded; overridable with ZETAPREP_LIBDEFLATE_LIBRARY (a path, or a missing name to test the fallback).</summary>
    public const string LibraryName = "libdeflate.so.0";

    /// <summary>Names the library to load instead of <see cref="LibraryName"/>.</summary>
    public const string LibraryEnvironmentVariable = "ZETAPREP_LIBDEFLATE_LIBRARY";

    /// <summary>How a decompression ended (libdeflate's enum libdeflate_result).</summary>
    internal enum Result
    {
        Success = 0,
        BadData = 1,
        ShortOutput = 2,
        InsufficientSpace = 3,
    }

    private static readonly Functions? Api = Load();

    /// <summary>True when the library loaded and exports the functions used here.</summary>
    public static bool IsAvailable => Api is not null;

    /// <summary>The library name or path tried.</summary>
    public static string Library => Environment.GetEnvironmentVariable(LibraryEnvironmentVariable) is { Length: > 0 } named ? named : LibraryName;

    /// <summary>
    /// Inflates the raw deflate stream <paramref name="compressed"/> into exactly <paramref name="into"/>:
    /// <see cref="Result.ShortOutput"/> when it ends before filling it, <see cref="Result.InsufficientSpace"/> when it
    /// holds more. Needs <see cref="IsAvailable"/>.
    /// </summary>
    internal static Result Inflate(ReadOnlySpan<byte> compressed, Span<byte> into) =>
        Decompress(zlib: false, compressed, into);

    /// <summary>
    /// Inflates the zlib stream <paramref name="compressed"/> (header, deflate data, Adler-32, all checked) into exactly
    /// <paramref name="into"/> (a PNG's image data, whose size the header gives): <see cref="Result.ShortOutput"/> when it
    /// ends before filling it, <see cref="Result.InsufficientSpace"/> when it holds more. Needs <see cref="IsAvailable"/>.
    /// </summary>
    internal static Result InflateZlib(ReadOnlySpan<byte> compressed, Span<byte> into) =>
        Decompress(zlib: true, compressed, into);

    /// <summary>One decompression into exactly <paramref name="into"/>, with a decompressor of its own (~1 µs to make; libdeflate's are not thread-safe).</summary>
    private static Result Decompress(bool zlib, ReadOnlySpan<byte> compressed, Span<byte> into)
    {
        var api = Api ?? throw new InvalidOperationException($"{Library} is not loaded");
        var decompressor = api.Alloc();
        if (decompressor == 0)
        {
            throw new ZetaPrepException($"{Library}: libdeflate_alloc_decompressor failed (out of memory); free memory or lower --threads.");
        }
        try
        {
            fixed (byte* input = compressed)
            fixed (byte* output = into)
            {
                // A null actual-size pointer asks for exactly into.Length bytes.
                return (Result)(zlib
                    ? api.DecompressZlib(decompressor, input, (nuint)compressed.Length, output, (nuint)into.Length, null)
                    : api.Decompress(decompressor, input, (nuint)compressed.Length, output, (nuint)into.Length, null));
            }
        }
        finally
        {
            api.Free(decompressor);
        }
    }

    private static Functions? Load()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(Libdeflate).Assembly, null, out var lib))
        {
            return null;
        }
        nint Export(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out var f) ? f : 0;
        nint alloc = Export("libdeflate_alloc_decompressor"), decompress = Export("libdeflate_deflate_decompress"), zlib = Export("libdeflate_zlib_decompress");
        nint free = Export("libdeflate_free_decompressor");
        return alloc == 0 || decompress == 0 || zlib == 0 || free == 0
            ? null
            : new Functions((delegate* unmanaged<nint>)alloc, (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int>)decompress,
                (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int>)zlib, (delegate* unmanaged<nint, void>)free);
    }

    private sealed class Functions(
        delegate* unmanaged<nint> alloc,
        delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int> decompress,
        delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int> decompressZlib,
        delegate* unmanaged<nint, void> free)
    {
        public nint Alloc() => alloc();

        public int Decompress(nint decompressor, byte* input, nuint inputLength, byte* output, nuint outputLength, nuint* actual) =>
            decompress(decompressor, input, inputLength, output, outputLength, actual);

        public int DecompressZlib(nint decompressor, byte* input, nuint inputLength, byte* output, nuint outputLength, nuint* actual) =>
            decompressZlib(decompressor, input, inputLength, output, outputLength, actual);

        public void Free(nint decompressor) => free(decompressor);
    }
}
