using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SkiaSharp;
using ZetaPrep.Sources;

namespace ZetaPrep.Imaging;

/// <summary>
/// The PNGs most image datasets hold — 8-bit grey, grey + alpha, RGB or RGBA, not interlaced — decoded without Skia:
/// libdeflate inflates the image data in one call (Skia's zlib inflate was a third of a photo PNG's decode) and the rows
/// are unfiltered here, into the premultiplied RGBA8888 that Skia's decode gives, which the shared resampler then
/// reads. Anything else — palette, 16-bit or sub-byte depths, interlacing, a tRNS, eXIf or colour chunk, an unknown
/// critical chunk, a CRC that does not match, image data that does not inflate to exactly the size the header needs, a
/// bad filter byte, no libdeflate — is left to Skia (false), which decodes it, or names the damage, as before.
/// </summary>
/// <remarks>Managed code over bounds-checked spans (and libdeflate, fuzzed upstream): safe for untrusted input.</remarks>
internal static class PngDecoder
{

    /// <summary>libpng's default user limit on either side; Skia keeps it, so a wider image goes to Skia, which refuses it.</summary>
    private const int MaxSide = 1_000_000;

    /// <summary>What the chunk walk found: the size, the channels per pixel and the image data's total length.</summary>
    internal readonly record struct Layout(int Width, int Height, int Channels, long IdatBytes);

    /// <summary>
    /// True for a PNG this decoder takes: a well-formed chunk sequence (IHDR first, IDATs together, IEND), only ancillary
    /// chunks Skia ignores when it decodes with no colour space (text, time, physical size, background, histogram…).
    /// </summary>
    /// <param name="png">The file's bytes.</param>
    /// <param name="checkCrc">Check every chunk's CRC-32 (decoding), or not (a header read).</param>
    /// <param name="layout">The image's layout when true.</param>
    public static bool TryParse(ReadOnlySpan<byte> png, bool checkCrc, out Layout layout)
    {
        layout = default;
        if (!png.StartsWith(ImageIntegrity.PngSignature))
        {
            return false;
        }
        int pos = ImageIntegrity.PngSignature.Length, width = 0, height = 0, channels = 0;
        long idat = 0;
        bool idatsDone = false, first = true;
        while (png.Length - pos >= 12)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > (uint)(png.Length - pos - 12))
            {
                return false;
            }
            var type = png.Slice(pos + 4, 4);
            var body = png.Slice(pos + 8, (int)length);
            if (checkCrc && Crc32.HashToUInt32(png.Slice(pos + 4, 4 + (int)length)) != BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]))
            {
                return false;
            }
            pos += 12 + (int)length;
            if (first != type.SequenceEqual("IHDR"u8))
            {
                return false;
            }
            if (first)
            {
                first = false;
                if (length != 13 || body[8] != 8 || body[10] != 0 || body[11] != 0 || body[12] != 0)
                {
                    return false; // 8-bit, deflate, adaptive filtering, not interlaced
                }
                channels = body[9] switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => 0 };
                var w = BinaryPrimitives.ReadUInt32BigEndian(body);
                var h = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                if (channels == 0 || w is 0 or > MaxSide || h is 0 or > MaxSide)
                {
                    return false;
                }
                (width, height) = ((int)w, (int)h);
                continue;
            }
            if (type.SequenceEqual("IDAT"u8))
            {
                if (idatsDone)
                {
                    return false; // IDATs split by another chunk: libpng refuses them
                }
                idat += length;
                continue;
            }
            idatsDone |= idat > 0;
            if (type.SequenceEqual("IEND"u8))
            {
                layout = new Layout(width, height, channels, idat);
                return idat > 0;
            }
            if (!Ignored(type))
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>Ancillary chunks that do not change the pixels Skia gives (no colour space on the target, no orientation).</summary>
    private static bool Ignored(ReadOnlySpan<byte> type) =>
        type.SequenceEqual("tEXt"u8) || type.SequenceEqual("zTXt"u8) || type.SequenceEqual("iTXt"u8) || type.SequenceEqual("tIME"u8)
        || type.SequenceEqual("pHYs"u8) || type.SequenceEqual("bKGD"u8) || type.SequenceEqual("hIST"u8) || type.SequenceEqual("sPLT"u8)
        || type.SequenceEqual("sBIT"u8) || type.SequenceEqual("oFFs"u8) || type.SequenceEqual("pCAL"u8) || type.SequenceEqual("sCAL"u8);

    /// <summary>
    /// Decodes a PNG <see cref="TryParse"/> took (with CRCs checked) into premultiplied RGBA8888 rows and resizes them into
    /// <paramref name="rgbOut"/> with the resampler Skia's path uses; false (rgbOut untouched) where Skia must decode it.
    /// </summary>
    public static unsafe bool TryDecodeResized(ReadOnlySpan<byte> png, Layout layout, int size, ResizeMode mode, Span<byte> rgbOut)
    {
        int width = layout.Width, height = layout.Height, channels = layout.Channels;
        long stride = 1 + ((long)width * channels);
        long raw = stride * height;
        long rgbaBytes = (long)width * height * 4;
        if (!Libdeflate.IsAvailable || raw > int.MaxValue - 64 || rgbaBytes > int.MaxValue || layout.IdatBytes > int.MaxValue)
        {
            return false;
        }
        // One native block per image: the gathered image data, the rows (with slack: the unfilter and the RGB spread read
        // up to 16 bytes past a row) and the RGBA pixels. Up to ScratchKept bytes it stays with the thread for the next image
        // (fresh pages for ~6 MB per photo cost more page faults than the inflate saved); a larger one is freed at once.
        long rowsAt = Align(layout.IdatBytes), rgbaAt = rowsAt + Align(raw + 64), total = rgbaAt + rgbaBytes;
        var block = Scratch.Rent(total, out var blockLength);
        var compressed = block;
        var rows = block + rowsAt;
        var rgba = block + rgbaAt;
        try
        {
            Gather(png, new Span<byte>(compressed, (int)layout.IdatBytes));
            if (Libdeflate.InflateZlib(new ReadOnlySpan<byte>(compressed, (int)layout.IdatBytes), new Span<byte>(rows, (int)raw)) != Libdeflate.Result.Success)
            {
                return false;
            }
            var zero = new byte[(width * channels) + 4]; // the first row's "previous row"; + 4: Paeth4 loads 4 bytes a pixel
            fixed (byte* none = zero)
            {
                byte* previous = none;
                for (var y = 0; y < height; y++)
                {
                    var row = rows + (y * stride);
                    if (!Unfilter(row[0], row + 1, previous, width * channels, channels))
                    {
                        return false;
                    }
                    ToRgba(row + 1, channels, rgba + ((long)y * width * 4), width);
                    previous = row + 1;
                }
            }
            Resampler.Resize(new ReadOnlySpan<byte>(rgba, (int)rgbaBytes), width, height, width * 4, SKEncodedOrigin.TopLeft, size, mode, rgbOut, width, height);
            return true;
        }
        finally
        {
            Scratch.Return(block, blockLength);
        }
    }

    private static long Align(long bytes) => (bytes + 63) & ~63L;

    /// <summary>
    /// Native blocks kept between images, at most one per core (as many as decode at once): fresh pages for ~6 MB per photo
    /// cost more in page faults than the inflate saved. A block over <see cref="Kept"/> bytes is freed after its image.
    /// </summary>
    private static unsafe class Scratch
    {
        /// <summary>The largest block kept: a 2048×2048 RGBA image's.</summary>
        private const long Kept = 48L << 20;

        private static readonly Stack<(nint Block, long Length)> Free = [];

        public static byte* Rent(long bytes, out long length)
        {
            length = bytes;
            if (bytes <= Kept)
            {
                lock (Free)
                {
                    if (Free.TryPop(out var kept))
                    {
                        if (kept.Length >= bytes)
                        {
                            length = kept.Length;
                            return (byte*)kept.Block;
                        }
                        NativeMemory.Free((void*)kept.Block);
                    }
                }
            }
            return (byte*)NativeMemory.Alloc((nuint)bytes);
        }

        public static void Return(byte* block, long length)
        {
            if (length <= Kept)
            {
                lock (Free)
                {
                    if (Free.Count < Environment.ProcessorCount)
                    {
                        Free.Push(((nint)block, length));
                        return;
                    }
                }
            }
            NativeMemory.Free(block);
        }
    }

    /// <summary>
    /// The IDAT bodies, in order, into <paramref name="into"/> (exactly their total length), from a PNG whose chunks up to
    /// IEND were already walked and bounds-checked (<see cref="TryParse"/>, or ImageIntegrity's check).
    /// </summary>
    internal static void Gather(ReadOnlySpan<byte> png, Span<byte> into)
    {
        var pos = ImageIntegrity.PngSignature.Length;
        var at = 0;
        while (at < into.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (png.Slice(pos + 4, 4).SequenceEqual("IDAT"u8))
            {
                png.Slice(pos + 8, length).CopyTo(into[at..]);
                at += length;
            }
            pos += 12 + length;
        }
    }

    /// <summary>Undoes one row's filter (RFC 2083 §6) in place against the previous, already unfiltered row; false for a bad filter byte.</summary>
    private static unsafe bool Unfilter(byte filter, byte* row, byte* up, int length, int bpp)
    {
        switch (filter)
        {
            case 0:
                return true;
            case 1:
                for (var i = bpp; i < length; i++)
                {
                    row[i] += row[i - bpp];
                }
                return true;
            case 2:
                var v = 0;
                for (; v + Vector256<byte>.Count <= length; v += Vector256<byte>.Count)
                {
                    (Vector256.Load(row + v) + Vector256.Load(up + v)).Store(row + v);
                }
                for (; v < length; v++)
                {
                    row[v] += up[v];
                }
                return true;
            case 3:
                for (var i = 0; i < bpp; i++)
                {
                    row[i] += (byte)(up[i] >> 1);
                }
                for (var i = bpp; i < length; i++)
                {
                    row[i] += (byte)((row[i - bpp] + up[i]) >> 1);
                }
                return true;
            case 4:
                if (bpp >= 3)
                {
                    Paeth4(row, up, length, bpp);
                    return true;
                }
                for (var i = 0; i < bpp; i++)
                {
                    row[i] += up[i]; // left and upper-left are 0: Paeth picks up
                }
                for (var i = bpp; i < length; i++)
                {
                    row[i] += Predict(row[i - bpp], up[i], up[i - bpp]);
                }
                return true;
            default:
                return false;
        }
    }

    /// <summary>The Paeth predictor (RFC 2083 §6.6): whichever of left, up and upper-left is nearest to left + up − upper-left, ties in that order.</summary>
    private static byte Predict(int a, int b, int c)
    {
        int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - (2 * c));
        return (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }

    /// <summary>
    /// Paeth for 3- or 4-byte pixels, a pixel at a time in 16-bit lanes (as libpng's SSE2 filter). Each pixel's bytes are
    /// loaded as 4 before the previous pixel is stored (an RGB pixel's 4th byte is the next one's first, still filtered, and
    /// goes back unchanged): a load overlapping the store just made would wait on it every pixel.
    /// </summary>
    private static unsafe void Paeth4(byte* row, byte* up, int length, int bpp)
    {
        var keep = bpp == 4 ? Vector128<short>.AllBitsSet : Vector128.Create((short)-1, -1, -1, 0, 0, 0, 0, 0);
        var low = Vector128.Create((short)0xFF);
        Vector128<short> a = Vector128<short>.Zero, c = Vector128<short>.Zero;
        var x = Widen(row);
        for (var i = 0; i < length; i += bpp)
        {
            var b = Widen(up + i);
            var next = i + bpp < length ? Widen(row + i + bpp) : Vector128<short>.Zero;
            var pa = Vector128.Abs(b - c);
            var pb = Vector128.Abs(a - c);
            var pc = Vector128.Abs(a + b - c - c);
            var useA = Vector128.LessThanOrEqual(pa, pb) & Vector128.LessThanOrEqual(pa, pc);
            var useB = ~useA & Vector128.LessThanOrEqual(pb, pc);
            var predicted = Vector128.ConditionalSelect(useA, a, Vector128.ConditionalSelect(useB, b, c)) & keep;
            var result = (x + predicted) & low;
            var bytes = Vector128.Narrow(result.AsUInt16(), result.AsUInt16());
            if (i + 4 <= length)
            {
                *(uint*)(row + i) = bytes.AsUInt32().ToScalar();
            }
            else
            {
                // The row's last RGB pixel: its 4th byte would be the next row's filter byte (unchanged, but keep clear of it).
                row[i] = bytes[0];
                row[i + 1] = bytes[1];
                row[i + 2] = bytes[2];
            }
            (a, c, x) = (result, b, next);
        }
    }

    private static unsafe Vector128<short> Widen(byte* p) =>
        Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(uint*)p).AsByte()).AsInt16();

    /// <summary>One unfiltered row into premultiplied RGBA8888, as Skia's swizzler writes it (grey replicated, alpha 255 where there is none).</summary>
    /// <remarks>The source row may be read up to 16 bytes past its end (the next row's bytes, or the block's slack).</remarks>
    private static unsafe void ToRgba(byte* src, int channels, byte* dst, int pixels)
    {
        var p = 0;
        switch (channels)
        {
            case 3:
                // Four pixels a step: 12 bytes spread to 16 (pshufb), alpha set.
                var spread = Vector128.Create((byte)0, 1, 2, 0xFF, 3, 4, 5, 0xFF, 6, 7, 8, 0xFF, 9, 10, 11, 0xFF);
                var opaque = Vector128.Create(0xFF000000u).AsByte();
                for (; p + 4 <= pixels; p += 4)
                {
                    (Vector128.Shuffle(Vector128.Load(src + (3 * p)), spread) | opaque).Store(dst + (4 * p));
                }
                for (; p < pixels; p++)
                {
                    (dst[4 * p], dst[(4 * p) + 1], dst[(4 * p) + 2], dst[(4 * p) + 3]) = (src[3 * p], src[(3 * p) + 1], src[(3 * p) + 2], 255);
                }
                break;
            case 1:
                for (; p < pixels; p++)
                {
                    *(uint*)(dst + (4 * p)) = (src[p] * 0x010101u) | 0xFF000000u;
                }
                break;
            case 2:
                for (; p < pixels; p++)
                {
                    var alpha = src[(2 * p) + 1];
                    *(uint*)(dst + (4 * p)) = (Premultiply(src[2 * p], alpha) * 0x010101u) | ((uint)alpha << 24);
                }
                break;
            default:
                for (; p < pixels; p++)
                {
                    var alpha = src[(4 * p) + 3];
                    if (alpha == 255)
                    {
                        *(uint*)(dst + (4 * p)) = *(uint*)(src + (4 * p));
                        continue;
                    }
                    dst[4 * p] = Premultiply(src[4 * p], alpha);
                    dst[(4 * p) + 1] = Premultiply(src[(4 * p) + 1], alpha);
                    dst[(4 * p) + 2] = Premultiply(src[(4 * p) + 2], alpha);
                    dst[(4 * p) + 3] = alpha;
                }
                break;
        }
    }

    /// <summary>c·a/255 rounded to nearest (exact for bytes): Skia's SkMulDiv255Round.</summary>
    private static byte Premultiply(byte c, byte a)
    {
        var t = (c * a) + 128;
        return (byte)((t + (t >> 8)) >> 8);
    }
}
