using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using SkiaSharp;

namespace ZetaPrep.Imaging;

/// <summary>
/// Decodes JPEG pixels with the system's SIMD libjpeg-turbo (TurboJPEG 2.x API, Debian package libturbojpeg0) and
/// everything else, plus any JPEG it cannot or will not decode cleanly, with <see cref="SkiaImageDecoder"/>.
/// </summary>
/// <remarks>
/// A JPEG's header comes from TurboJPEG and its EXIF orientation from <see cref="JpegExif"/> (Skia's rules, checked
/// against Skia), so a JPEG input never loads SkiaSharp, whose static initialiser scans every system font; the
/// --max-pixels check and the resize are the code Skia's path uses, and the DCT scale rule is the same (smallest k/8
/// that still covers the target). Any TurboJPEG error or warning (TJFLAG_STOPONWARNING: a truncated file never yields
/// gray rows) hands the file to Skia, which then either decodes it or throws its usual one-line message; CMYK/YCCK
/// files and other formats go to Skia directly (TurboJPEG cannot convert CMYK to RGB).
/// </remarks>
public sealed class TurboJpegDecoder : IImageDecoder
{
    /// <summary>The shared object loaded; overridable with ZETAPREP_TURBOJPEG_LIBRARY (a path, or a missing name to test the fallback).</summary>
    public const string LibraryName = "libturbojpeg.so.0";

    /// <summary>Names the library to load instead of <see cref="LibraryName"/>.</summary>
    public const string LibraryEnvironmentVariable = "ZETAPREP_TURBOJPEG_LIBRARY";

    private readonly ImageLimits _limits;
    private readonly SkiaImageDecoder _skia;

    /// <summary>Creates a decoder that enforces <paramref name="limits"/> (defaults when null); needs <see cref="IsAvailable"/>.</summary>
    public TurboJpegDecoder(ImageLimits? limits = null)
    {
        if (!IsAvailable)
        {
            throw new ZetaPrepException(UnavailableMessage);
        }
        _limits = limits ?? new ImageLimits();
        _skia = new SkiaImageDecoder(_limits);
    }

    /// <summary>True when libturbojpeg.so.0 loaded and exports the TurboJPEG 2.x functions used here.</summary>
    public static bool IsAvailable => Native.Api is not null;

    /// <summary>Why the library is missing and what to do, in one line.</summary>
    public static string UnavailableMessage =>
        $"--codec turbojpeg: {Native.LoadedName} not found ({Native.LoadError}); install it (apt-get install libturbojpeg0) or use --codec skia";

    /// <summary>The library name or path tried (<see cref="LibraryName"/> unless the environment variable names another).</summary>
    public static string Library => Native.LoadedName;

    /// <summary>The limits this decoder enforces.</summary>
    public ImageLimits Limits => _limits;

    /// <inheritdoc/>
    public ImageHeader ReadHeader(ReadOnlySpan<byte> encoded, string name) =>
        TryJpegHeader(encoded, out int width, out int height, out var origin) ? Oriented(width, height, origin) : _skia.ReadHeader(encoded, name);

    /// <inheritdoc/>
    public void DecodeResized(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut) =>
        Decode(encoded, name, size, mode, rgbOut, fallBackToSkia: true);

    /// <summary>Decodes with TurboJPEG only; false (rgbOut untouched or partly written) when the file must go to Skia instead.</summary>
    /// <remarks>Internal so tests can prove a JPEG really took this path rather than the fallback.</remarks>
    internal bool TryDecodeTurbo(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut) =>
        Decode(encoded, name, size, mode, rgbOut, fallBackToSkia: false);

    /// <summary>TurboJPEG reads the header and the limits are checked; TurboJPEG decodes JPEG pixels, else Skia does when allowed.</summary>
    private unsafe bool Decode(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut, bool fallBackToSkia)
    {
        SkiaImageDecoder.CheckArguments(name, size, rgbOut);
        if (TryJpegHeader(encoded, out int width, out int height, out var origin))
        {
            SkiaImageDecoder.CheckLimits(Oriented(width, height, origin), name, _limits);
            fixed (byte* p = encoded)
            {
                if (TryDecode(p, encoded.Length, width, height, origin, size, mode, rgbOut))
                {
                    return true;
                }
            }
        }
        if (!fallBackToSkia)
        {
            return false;
        }
        _skia.DecodeResized(encoded, name, size, mode, rgbOut);
        return true;
    }

    /// <summary>The header Skia reports: width and height as displayed (swapped by a 90° EXIF orientation).</summary>
    private static ImageHeader Oriented(int width, int height, SKEncodedOrigin origin) =>
        Resampler.SwapsAxes(origin) ? new ImageHeader("JPEG", height, width) : new ImageHeader("JPEG", width, height);

    /// <summary>Size and orientation of a JPEG that TurboJPEG can decode to RGB (not CMYK/YCCK); false for anything else.</summary>
    private static unsafe bool TryJpegHeader(ReadOnlySpan<byte> encoded, out int width, out int height, out SKEncodedOrigin origin)
    {
        width = height = 0;
        origin = SKEncodedOrigin.TopLeft;
        if (encoded.Length < 3 || encoded[0] != 0xFF || encoded[1] != 0xD8 || encoded[2] != 0xFF || Native.ThreadHandle() is not { } handle)
        {
            return false;
        }

        int w, h, subsampling, colorspace;
        fixed (byte* p = encoded)
        {
            int status = Native.Api!.DecompressHeader3(handle.DangerousGetHandle(), p, (nuint)encoded.Length, &w, &h, &subsampling, &colorspace);
            GC.KeepAlive(handle);
            if (status != 0)
            {
                Native.DiscardThreadHandle();
                return false;
            }
            if (colorspace is Native.ColorspaceCmyk or Native.ColorspaceYcck)
            {
                return false;
            }
        }

        (width, height, origin) = (w, h, JpegExif.Origin(encoded));
        return true;
    }

    private static unsafe bool TryDecode(byte* jpeg, int length, int width, int height, SKEncodedOrigin origin, int size, ResizeMode mode, Span<byte> rgbOut)
    {
        var api = Native.Api!;
        var handle = Native.ThreadHandle();
        if (handle is null)
        {
            return false;
        }

        nint tj = handle.DangerousGetHandle();
        var (w, h, scale) = DecodeSize(api, width, height, size, mode);
        void* pixels = NativeMemory.Alloc((nuint)w * (nuint)h * 4);
        try
        {
            // RGBA with alpha 0xFF is the same bytes premultiplied or not, so the resampler sees what the Skia decode gives.
            if (api.Decompress2(tj, jpeg, (nuint)length, (byte*)pixels, w, w * 4, h, Native.PixelFormatRgba, Native.Flags) != 0)
            {
                Native.DiscardThreadHandle();
                return false;
            }

            Resampler.Resize(new ReadOnlySpan<byte>(pixels, checked(w * h * 4)), w, h, w * 4, origin, size, mode, rgbOut, width * scale, height * scale);
            return true;
        }
        finally
        {
            NativeMemory.Free(pixels);
            GC.KeepAlive(handle);
        }
    }

    /// <summary>The smallest TurboJPEG scaling factor ≤ 1 whose output still covers the target: the rule SkiaImageDecoder uses (k/8).</summary>
    private static (int Width, int Height, double Scale) DecodeSize(Native.Functions api, int width, int height, int size, ResizeMode mode)
    {
        foreach (var (num, denom) in api.ScalingFactors)
        {
            // TJSCALED: ceil(dimension × num / denom), as libjpeg computes the output size.
            int w = (int)((((long)width * num) + denom - 1) / denom);
            int h = (int)((((long)height * num) + denom - 1) / denom);
            if (SkiaImageDecoder.Covers(w, h, size, mode))
            {
                return (w, h, (double)num / denom);
            }
        }

        return (width, height, 1);
    }

    /// <summary>One TurboJPEG decompressor per thread; released by its SafeHandle when the thread (and so the handle) goes away.</summary>
    private sealed class TurboJpegHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public TurboJpegHandle(nint handle)
            : base(ownsHandle: true) => SetHandle(handle);

        protected override bool ReleaseHandle() => Native.Api!.Destroy(handle) == 0;
    }

    private static class Native
    {
        public const int PixelFormatRgba = 7;      // TJPF_RGBA
        public const int ColorspaceCmyk = 3;       // TJCS_CMYK
        public const int ColorspaceYcck = 4;       // TJCS_YCCK
        public const int FlagAccurateDct = 4096;   // TJFLAG_ACCURATEDCT (the default IDCT, stated explicitly)
        public const int FlagStopOnWarning = 8192; // TJFLAG_STOPONWARNING
        public const int FlagLimitScans = 32768;   // TJFLAG_LIMITSCANS: > 500 progressive scans is an error (a CPU-exhaustion guard)

        /// <summary>Accurate IDCT, and any warning (premature end of data, corrupt entropy data) is an error.</summary>
        public const int Flags = FlagAccurateDct | FlagStopOnWarning | FlagLimitScans;

        [ThreadStatic]
        private static TurboJpegHandle? t_handle;

        public static string LoadedName { get; } = Environment.GetEnvironmentVariable(LibraryEnvironmentVariable) is { Length: > 0 } named ? named : LibraryName;

        public static string LoadError { get; private set; } = "";

        public static Functions? Api { get; } = Load();

        /// <summary>
        /// Drops this thread's decompressor after a failed call: TurboJPEG 2.x can leave it mid-header or mid-scan
        /// (an error inside jpeg_read_header skips the abort), and every later call on it would then fail too, sending
        /// the thread's good JPEGs to Skia. The next call creates a fresh one.
        /// </summary>
        public static void DiscardThreadHandle()
        {
            t_handle?.Dispose();
            t_handle = null;
        }

        public static TurboJpegHandle? ThreadHandle()
        {
            if (t_handle is { IsInvalid: false } h)
            {
                return h;
            }

            unsafe
            {
                nint raw = Api!.InitDecompress();
                t_handle = raw == 0 ? null : new TurboJpegHandle(raw);
            }
            return t_handle;
        }

        private static unsafe Functions? Load()
        {
            if (!NativeLibrary.TryLoad(LoadedName, typeof(TurboJpegDecoder).Assembly, null, out var lib))
            {
                LoadError = "cannot load the shared library";
                return null;
            }

            nint Export(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out var f) ? f : 0;
            nint init = Export("tjInitDecompress"), header = Export("tjDecompressHeader3"), factors = Export("tjGetScalingFactors");
            nint decompress = Export("tjDecompress2"), destroy = Export("tjDestroy");
            if (init == 0 || header == 0 || factors == 0 || decompress == 0 || destroy == 0)
            {
                LoadError = "it lacks the TurboJPEG 2.x functions";
                return null;
            }

            int count;
            var table = ((delegate* unmanaged<int*, ScalingFactor*>)factors)(&count);
            var scales = new List<(int Num, int Denom)>();
            for (int i = 0; table is not null && i < count; i++)
            {
                if (table[i].Num > 0 && table[i].Denom > 0 && table[i].Num <= table[i].Denom)
                {
                    scales.Add((table[i].Num, table[i].Denom));
                }
            }

            // Smallest first, so DecodeSize picks the cheapest decode that still covers the target.
            scales.Sort((a, b) => ((long)a.Num * b.Denom).CompareTo((long)b.Num * a.Denom));
            return new Functions(
                (delegate* unmanaged<nint>)init,
                (delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int>)header,
                (delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int>)decompress,
                (delegate* unmanaged<nint, int>)destroy,
                scales);
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct ScalingFactor
        {
            public int Num;
            public int Denom;
        }

        /// <summary>The TurboJPEG entry points (unsigned long sizes are nuint: LP64 Linux).</summary>
        public sealed unsafe class Functions(
            delegate* unmanaged<nint> initDecompress,
            delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int> decompressHeader3,
            delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int> decompress2,
            delegate* unmanaged<nint, int> destroy,
            IReadOnlyList<(int Num, int Denom)> scalingFactors)
        {
            public IReadOnlyList<(int Num, int Denom)> ScalingFactors { get; } = scalingFactors;

            public nint InitDecompress() => initDecompress();

            public int DecompressHeader3(nint handle, byte* jpeg, nuint size, int* width, int* height, int* subsampling, int* colorspace) =>
                decompressHeader3(handle, jpeg, size, width, height, subsampling, colorspace);

            public int Decompress2(nint handle, byte* jpeg, nuint size, byte* dst, int width, int pitch, int height, int pixelFormat, int flags) =>
                decompress2(handle, jpeg, size, dst, width, pitch, height, pixelFormat, flags);

            public int Destroy(nint handle) => destroy(handle);
        }
    }
}
