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
/// that still covers the target). TurboJPEG stops at the first libjpeg warning (TJFLAG_STOPONWARNING): one that means
/// scan data is missing or corrupt (<see cref="IsDataLoss"/>: a file cut short, even one that still ends in an EOI
/// marker, whose missing rows libjpeg would fill with gray) is refused with a one-line message, since Skia's libjpeg
/// ignores warnings and would decode it; any other warning or error hands the file to Skia, which then either decodes
/// it or throws its usual message. CMYK/YCCK files and other formats go to Skia directly (TurboJPEG cannot convert CMYK
/// to RGB).
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

    /// <summary>True for a JPEG TurboJPEG decodes itself (not CMYK/YCCK, which go to Skia): its data-loss warnings end the decode (<see cref="Decode"/>).</summary>
    public bool DetectsJpegDataLoss(ReadOnlySpan<byte> encoded) => TryJpegHeader(encoded, out _, out _, out _);

    /// <summary>Decodes with TurboJPEG only; false (rgbOut untouched or partly written) when the file must go to Skia instead.</summary>
    /// <remarks>Internal so tests can prove a JPEG really took this path rather than the fallback.</remarks>
    internal bool TryDecodeTurbo(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut) =>
        Decode(encoded, name, size, mode, rgbOut, fallBackToSkia: false);

    /// <summary>TurboJPEG reads the header and the limits are checked; TurboJPEG decodes JPEG pixels, else Skia does when allowed.</summary>
    private unsafe bool Decode(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut, bool fallBackToSkia)
    {
        SkiaImageDecoder.CheckArguments(name, size, rgbOut);
        string? dataLoss = null;
        if (TryJpegHeader(encoded, out int width, out int height, out var origin))
        {
            SkiaImageDecoder.CheckLimits(Oriented(width, height, origin), name, _limits);
            fixed (byte* p = encoded)
            {
                if (TryDecode(p, encoded.Length, width, height, origin, size, mode, rgbOut, out dataLoss))
                {
                    return true;
                }
            }
        }
        if (!fallBackToSkia)
        {
            return false;
        }
        // Skia names what it sees as damaged (a file cut without its EOI marker: "truncated or corrupt JPEG data") ...
        _skia.DecodeResized(encoded, name, size, mode, rgbOut);
        if (dataLoss is not null)
        {
            // ... but decodes scan data that stops at a marker, or is corrupt, with filler for what is missing.
            throw ImageIntegrity.Bad(name, $"truncated or corrupt JPEG data ({dataLoss})");
        }
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
        if (!ImageIntegrity.IsJpeg(encoded) || Native.ThreadHandle() is not { } handle)
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

    /// <summary>
    /// The libjpeg warning that stops a decode of the whole file at the smallest DCT scale (1/8: entropy decoding of
    /// every scan, next to no IDCT, colour conversion or memory) when it means scan data is missing or corrupt; null
    /// when the file decodes cleanly, TurboJPEG is not loaded or does not read it, or it stops for another reason
    /// (harmless warnings such as extraneous bytes before a marker, or errors the decoders report themselves).
    /// </summary>
    /// <remarks>Stopping at the first warning, a harmless one hides any data loss after it; such files decode as before.</remarks>
    internal static unsafe string? FindDataLoss(ReadOnlySpan<byte> encoded)
    {
        if (!IsAvailable || !ImageIntegrity.IsJpeg(encoded) || Native.ThreadHandle() is not { } handle)
        {
            return null;
        }

        var api = Native.Api!;
        int w, h, subsampling, colorspace;
        fixed (byte* p = encoded)
        {
            try
            {
                nint tj = handle.DangerousGetHandle();
                if (api.DecompressHeader3(tj, p, (nuint)encoded.Length, &w, &h, &subsampling, &colorspace) != 0)
                {
                    Native.DiscardThreadHandle();
                    return null;
                }

                var (num, denom) = api.ScalingFactors.Count > 0 ? api.ScalingFactors[0] : (1, 1);
                int sw = Scaled(w, num, denom), sh = Scaled(h, num, denom);
                int format = colorspace is Native.ColorspaceCmyk or Native.ColorspaceYcck ? Native.PixelFormatCmyk : Native.PixelFormatRgba;
                void* pixels = NativeMemory.Alloc((nuint)sw * (nuint)sh * 4);
                try
                {
                    if (api.Decompress2(tj, p, (nuint)encoded.Length, (byte*)pixels, sw, sw * 4, sh, format, Native.Flags) == 0)
                    {
                        return null;
                    }
                    var loss = DataLossOf(api, tj);
                    Native.DiscardThreadHandle();
                    return loss;
                }
                finally
                {
                    NativeMemory.Free(pixels);
                }
            }
            finally
            {
                GC.KeepAlive(handle);
            }
        }
    }

    /// <summary>
    /// Whether a libjpeg warning (jerror.h) means image data is missing or corrupt, so the decoded picture would hold
    /// filler: JWRN_JPEG_EOF, JWRN_HIT_MARKER (a marker such as EOI inside the scan data: a file cut short),
    /// JWRN_HUFF_BAD_CODE, JWRN_ARITH_BAD_CODE, JWRN_MUST_RESYNC (a restart interval lost). Others are harmless:
    /// JWRN_EXTRANEOUS_DATA (bytes between the scan data and a marker, common in camera files), JWRN_BOGUS_ICC,
    /// JWRN_ADOBE_XFORM, JWRN_JFIF_MAJOR, JWRN_NOT_SEQUENTIAL, JWRN_BOGUS_PROGRESSION.
    /// </summary>
    internal static bool IsDataLoss(string message) =>
        message.StartsWith("Premature end of JPEG file", StringComparison.Ordinal)
        || message.StartsWith("Corrupt JPEG data: premature end of data segment", StringComparison.Ordinal)
        || message.StartsWith("Corrupt JPEG data: bad Huffman code", StringComparison.Ordinal)
        || message.StartsWith("Corrupt JPEG data: bad arithmetic code", StringComparison.Ordinal)
        || (message.StartsWith("Corrupt JPEG data: found marker", StringComparison.Ordinal) && message.Contains("instead of RST", StringComparison.Ordinal));

    /// <summary>After a failed decode: libjpeg's warning, shortened for a message, when <see cref="IsDataLoss"/> says it lost data; else null.</summary>
    private static unsafe string? DataLossOf(Native.Functions api, nint tj)
    {
        if (!api.CanExplain || api.GetErrorCode(tj) != Native.ErrorWarning || api.GetErrorString(tj) is not { } message || !IsDataLoss(message))
        {
            return null;
        }
        const string Prefix = "Corrupt JPEG data: ";
        var what = message.StartsWith(Prefix, StringComparison.Ordinal) ? message[Prefix.Length..] : message;
        return "libjpeg: " + (what.Length > 0 ? char.ToLowerInvariant(what[0]) + what[1..] : what);
    }

    private static unsafe bool TryDecode(byte* jpeg, int length, int width, int height, SKEncodedOrigin origin, int size, ResizeMode mode, Span<byte> rgbOut, out string? dataLoss)
    {
        dataLoss = null;
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
                dataLoss = DataLossOf(api, tj);
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

    /// <summary>TJSCALED: ceil(dimension × num / denom), as libjpeg computes a scaled output's size.</summary>
    private static int Scaled(int dimension, int num, int denom) => (int)((((long)dimension * num) + denom - 1) / denom);

    /// <summary>The smallest TurboJPEG scaling factor ≤ 1 whose output still covers the target: the rule SkiaImageDecoder uses (k/8).</summary>
    private static (int Width, int Height, double Scale) DecodeSize(Native.Functions api, int width, int height, int size, ResizeMode mode)
    {
        foreach (var (num, denom) in api.ScalingFactors)
        {
            int w = Scaled(width, num, denom), h = Scaled(height, num, denom);
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
        public const int PixelFormatCmyk = 11;     // TJPF_CMYK
        public const int ErrorWarning = 0;         // TJERR_WARNING (tjGetErrorCode)
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
            nint errorCode = Export("tjGetErrorCode"), errorString = Export("tjGetErrorStr2"); // TurboJPEG 2.0+; without them no warning is told apart
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
                (delegate* unmanaged<nint, int>)errorCode,
                (delegate* unmanaged<nint, byte*>)errorString,
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
            delegate* unmanaged<nint, int> getErrorCode,
            delegate* unmanaged<nint, byte*> getErrorString,
            IReadOnlyList<(int Num, int Denom)> scalingFactors)
        {
            /// <summary>Whether tjGetErrorCode and tjGetErrorStr2 were found.</summary>
            public bool CanExplain { get; } = getErrorCode is not null && getErrorString is not null;

            /// <summary>TJERR_WARNING or TJERR_FATAL for the handle's last failure.</summary>
            public int GetErrorCode(nint handle) => getErrorCode(handle);

            /// <summary>The handle's (or, for a libjpeg message, this thread's) last error text.</summary>
            public string? GetErrorString(nint handle) => Marshal.PtrToStringUTF8((nint)getErrorString(handle));

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
