using System.Globalization;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace ZetaPrep.Imaging;

/// <summary>The default decoder, meant for untrusted input: Skia's fuzzed codecs (libjpeg-turbo, libpng, libwebp), limits checked from the header first.</summary>
public sealed class SkiaImageDecoder : IImageDecoder
{
    /// <summary>Largest output side; keeps size*size*4 well inside an int.</summary>
    public const int MaxSize = 16_384;

    private readonly ImageLimits _limits;

    /// <summary>Creates a decoder that enforces <paramref name="limits"/> (defaults when null).</summary>
    public SkiaImageDecoder(ImageLimits? limits = null) => _limits = limits ?? new ImageLimits();

    /// <summary>The limits this decoder enforces.</summary>
    public ImageLimits Limits => _limits;

    /// <summary>Whether the PNGs <see cref="PngDecoder"/> takes are decoded by it (the same pixels, faster); false: Skia decodes every file (tests compare the two).</summary>
    internal bool FastPng { get; init; } = true;

    /// <inheritdoc/>
    public unsafe ImageHeader ReadHeader(ReadOnlySpan<byte> encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (FastPng && PngDecoder.TryParse(encoded, checkCrc: false, out var png))
        {
            return new ImageHeader("PNG", png.Width, png.Height);
        }
        fixed (byte* p = encoded)
        {
            using var data = Wrap(p, encoded, name);
            using var codec = Open(data, encoded, name);
            return HeaderOf(codec);
        }
    }

    /// <inheritdoc/>
    public unsafe void DecodeResized(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut)
    {
        CheckArguments(name, size, rgbOut);
        if (FastPng && PngDecoder.TryParse(encoded, checkCrc: true, out var png))
        {
            CheckLimits(new ImageHeader("PNG", png.Width, png.Height), name, _limits);
            if (PngDecoder.TryDecodeResized(encoded, png, size, mode, rgbOut))
            {
                return;
            }
        }
        fixed (byte* p = encoded)
        {
            // The SKData and codec only borrow the pinned input; both are disposed before the fixed block ends.
            using var data = Wrap(p, encoded, name);
            using var codec = Open(data, encoded, name);
            CheckLimits(HeaderOf(codec), name, _limits);
            DecodeOpened(codec, name, size, mode, rgbOut);
        }
    }

    /// <summary>The argument checks every decoder shares: a name, 1 ≤ size ≤ <see cref="MaxSize"/>, rgbOut exactly size²×3.</summary>
    internal static void CheckArguments(string name, int size, Span<byte> rgbOut)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        if (rgbOut.Length != size * size * 3)
        {
            throw new ArgumentException($"rgbOut must hold exactly {size}*{size}*3 bytes, got {rgbOut.Length}", nameof(rgbOut));
        }
    }

    /// <summary>Refuses a header that claims more pixels than --max-pixels, before any pixel is decoded.</summary>
    internal static void CheckLimits(ImageHeader header, string name, ImageLimits limits)
    {
        if (header.Pixels > limits.MaxPixels)
        {
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {header.Width}×{header.Height} = {header.Pixels:N0} pixels exceeds --max-pixels {limits.MaxPixels:N0}"));
        }
    }

    /// <summary>Decodes an opened codec (limits already checked) with Skia, then orients and resizes into <paramref name="rgbOut"/>.</summary>
    internal static unsafe void DecodeOpened(SKCodec codec, string name, int size, ResizeMode mode, Span<byte> rgbOut)
    {
        var decoded = DecodeSize(codec, size, mode, out double scale);
        // No colour space on the target: Skia skips ICC conversion, so values match what PIL/torchvision loaders give.
        var info = new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        nuint bytes = (nuint)decoded.Width * (nuint)decoded.Height * 4;
        if (bytes > int.MaxValue)
        {
            throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {decoded.Width}×{decoded.Height} needs {bytes / 1048576:N0} MiB decoded, over the 2 GiB a decode buffer may use; lower --max-pixels or shrink the file."));
        }

        // Native memory: the decode buffer can be hundreds of MB for a large photo, which must not sit in ArrayPool afterwards.
        void* pixels = NativeMemory.Alloc(bytes);
        try
        {
            var result = codec.GetPixels(info, (IntPtr)pixels);
            if (result != SKCodecResult.Success)
            {
                // IncompleteInput would otherwise hand back an image whose missing rows are filled with gray.
                var format = FormatName(codec.EncodedFormat);
                throw new ZetaPrepException(result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
                    ? $"{name}: truncated or corrupt {format} data"
                    : $"{name}: cannot decode {format} ({result})");
            }

            Resample(info, pixels, codec.Info.Width * scale, codec.Info.Height * scale, codec.EncodedOrigin, size, mode, rgbOut);
        }
        finally
        {
            NativeMemory.Free(pixels);
        }
    }

    internal static unsafe SKData Wrap(byte* p, ReadOnlySpan<byte> encoded, string name)
    {
        if (encoded.IsEmpty)
        {
            throw new ZetaPrepException($"{name}: empty file, not an image");
        }

        // No copy: Skia reads the caller's pinned bytes directly.
        return SKData.Create((IntPtr)p, encoded.Length);
    }

    internal static SKCodec Open(SKData data, ReadOnlySpan<byte> encoded, string name)
    {
        var codec = SKCodec.Create(data);
        if (codec is null)
        {
            var sniffed = Sniff(encoded);
            throw new ZetaPrepException(sniffed is null
                ? $"{name}: not an image (unrecognised format)"
                : $"{name}: truncated or corrupt {sniffed} data (unreadable header)");
        }

        return codec;
    }

    internal static ImageHeader HeaderOf(SKCodec codec)
    {
        var info = codec.Info;
        bool swap = Resampler.SwapsAxes(codec.EncodedOrigin);
        return new ImageHeader(FormatName(codec.EncodedFormat), swap ? info.Height : info.Width, swap ? info.Width : info.Height);
    }

    /// <summary>For JPEG, the smallest libjpeg-turbo DCT scale (k/8) whose output still covers the target, so decode and resize both get cheaper.</summary>
    /// <remarks>FACTS.md §6: 1024×768 → 224² via 3/8 (384×288) costs 2.64 ms against 5.4 ms for a full decode. Scaled IDCT also low-passes, so quality holds.</remarks>
    private static SKSizeI DecodeSize(SKCodec codec, int size, ResizeMode mode, out double scale)
    {
        scale = 1;
        var full = codec.Info.Size;
        if (codec.EncodedFormat != SKEncodedImageFormat.Jpeg)
        {
            return full;
        }

        for (int k = 1; k < 8; k++)
        {
            var d = codec.GetScaledDimensions(k / 8f);
            if (Covers(d.Width, d.Height, size, mode))
            {
                scale = k / 8.0;
                return d;
            }
        }

        return full;
    }

    /// <summary>Whether a decode of width×height still has at least <paramref name="size"/> pixels where the resize needs them (the longer side for pad, the shorter otherwise).</summary>
    internal static bool Covers(int width, int height, int size, ResizeMode mode) =>
        (mode == ResizeMode.Pad ? Math.Max(width, height) : Math.Min(width, height)) >= size;

    /// <summary>Orients and resizes decoded premultiplied RGBA8888 pixels (alpha composited on black) into size² RGB24 (shared by every decoder that decodes to RGBA).</summary>
    /// <param name="extentWidth">Full width × the DCT scale: the decoded pixels the picture really spans (see <see cref="Resampler.Resize"/>).</param>
    /// <param name="extentHeight">The same for the height.</param>
    internal static unsafe void Resample(SKImageInfo srcInfo, void* src, double extentWidth, double extentHeight, SKEncodedOrigin origin, int size, ResizeMode mode, Span<byte> rgbOut) =>
        Resampler.Resize(new ReadOnlySpan<byte>(src, checked(srcInfo.RowBytes * srcInfo.Height)), srcInfo.Width, srcInfo.Height, srcInfo.RowBytes, origin, size, mode, rgbOut, extentWidth, extentHeight);

    internal static string FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Webp => "WEBP",
        SKEncodedImageFormat.Gif => "GIF",
        SKEncodedImageFormat.Bmp => "BMP",
        SKEncodedImageFormat.Ico => "ICO",
        SKEncodedImageFormat.Wbmp => "WBMP",
        SKEncodedImageFormat.Heif => "HEIF",
        SKEncodedImageFormat.Avif => "AVIF",
        SKEncodedImageFormat.Dng => "DNG",
        _ => format.ToString().ToUpperInvariant(),
    };

    /// <summary>Names the format from magic bytes when Skia cannot even open the header, so the message says "corrupt JPEG" rather than "not an image".</summary>
    internal static string? Sniff(ReadOnlySpan<byte> b) =>
        b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "JPEG"
        : b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]) ? "PNG"
        : b.StartsWith("GIF8"u8) ? "GIF"
        : b.Length >= 12 && b.StartsWith("RIFF"u8) && b.Slice(8, 4).SequenceEqual("WEBP"u8) ? "WEBP"
        : null;
}
