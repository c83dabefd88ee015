using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace ZetaPrep.Imaging;

/// <summary>The portable, fully managed decoder: SixLabors.ImageSharp 2.1.13 behind <see cref="IImageDecoder"/>, for trusted input.</summary>
/// <remarks>
/// ImageSharp 2.x has had advisories for crafted images (FACTS.md §6): prefer <see cref="SkiaImageDecoder"/> for downloads
/// from strangers. The geometry is <see cref="Resampler"/>'s: crop takes the centred square of the source, pad
/// places a whole-pixel image on black bars, stretch scales each axis.
/// </remarks>
public sealed class ImageSharpDecoder : IImageDecoder
{
    /// <summary>Pooled memory this decoder keeps between images; larger buffers go back to the OS when released.</summary>
    private const int PoolMegabytes = 64;

    /// <summary>
    /// ImageSharp's EXIF reader parses each value's type with <c>Enum.GetValues(typeof(ExifDataType))</c>, which under
    /// native AOT needs the array type <c>ExifDataType[]</c> compiled in; nothing else in the program makes one, so the
    /// published tool crashed ("missing native code or metadata") on any JPEG with an EXIF block. Made here, it is.
    /// </summary>
    private static readonly ExifDataType[] ExifDataTypes = Enum.GetValues<ExifDataType>();

    private readonly ImageLimits _limits;
    private readonly Configuration _configuration;

    /// <summary>Creates a decoder that enforces <paramref name="limits"/> (defaults when null).</summary>
    public ImageSharpDecoder(ImageLimits? limits = null)
    {
        _limits = limits ?? new ImageLimits();
        GC.KeepAlive(ExifDataTypes);
        // Our own configuration, never Configuration.Default: one thread per image (the pipeline parallelises across
        // images), a small pool so one huge photo's buffers are not kept for the life of the process, and an allocation
        // cap a little above what --max-pixels admits as a second line behind the header check.
        var capMegabytes = (int)Math.Clamp((_limits.MaxPixels * 16 / (1024 * 1024)) + 64, 64, int.MaxValue);
        _configuration = Configuration.Default.Clone();
        _configuration.MaxDegreeOfParallelism = 1;
        _configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
        {
            MaximumPoolSizeMegabytes = PoolMegabytes,
            AllocationLimitMegabytes = capMegabytes,
        });
    }

    /// <summary>The limits this decoder enforces.</summary>
    public ImageLimits Limits => _limits;

    /// <summary>The resampler: ImageSharp widens its kernel by the scale factor, so downscaling is area-aware (antialiased).</summary>
    /// <remarks>Bicubic (ImageSharp's default) measured against Triangle in docs/FORMATS.md "Resampling quality".</remarks>
    internal static IResampler Sampler => KnownResamplers.Bicubic;

    /// <inheritdoc/>
    public ImageHeader ReadHeader(ReadOnlySpan<byte> encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var (header, _) = Identify(encoded, name);
        return header;
    }

    /// <inheritdoc/>
    public void DecodeResized(ReadOnlySpan<byte> encoded, string name, int size, ResizeMode mode, Span<byte> rgbOut)
    {
        SkiaImageDecoder.CheckArguments(name, size, rgbOut);
        var (header, orientation) = Identify(encoded, name);
        SkiaImageDecoder.CheckLimits(header, name, _limits);

        if (header.Format == "JPEG")
        {
            // ImageSharp 2.1 decodes a truncated JPEG without complaint, filling the missing rows: walk the markers to EOI first.
            try
            {
                ImageIntegrity.Check(encoded, name);
            }
            catch (ZetaPrepException e)
            {
                throw new ZetaPrepException($"{name}: truncated or corrupt JPEG data", e);
            }

            using var rgb = Load<Rgb24>(encoded, name, header.Format);
            Resample(rgb, header, orientation, size, mode, rgbOut);
        }
        else
        {
            using var rgba = Load<Rgba32>(encoded, name, header.Format);
            Resample(rgba, header, orientation, size, mode, rgbOut);
        }
    }

    private unsafe (ImageHeader Header, ushort Orientation) Identify(ReadOnlySpan<byte> encoded, string name)
    {
        if (encoded.IsEmpty)
        {
            throw new ZetaPrepException($"{name}: empty file, not an image");
        }

        IImageInfo? info;
        IImageFormat? format;
        fixed (byte* p = encoded)
        {
            // No copy: ImageSharp 2.1 has no span overload of Identify, so the pinned bytes are read through a stream.
            using var stream = new UnmanagedMemoryStream(p, encoded.Length);
            try
            {
                info = Image.Identify(_configuration, stream, out format);
            }
            catch (NotSupportedException e)
            {
                // A feature ImageSharp 2.1 lacks (animated WebP), not damage: the file is fine for Skia (QA).
                throw new ZetaPrepException($"{name}: --codec imagesharp cannot decode this {SkiaImageDecoder.Sniff(encoded) ?? "image"} ({e.Message.TrimEnd('.')}); use --codec skia (or auto) for it", e);
            }
            catch (Exception e) when (IsDecodeFailure(e))
            {
                throw new ZetaPrepException($"{name}: truncated or corrupt {SkiaImageDecoder.Sniff(encoded) ?? "image"} data (unreadable header){Detail(e)}", e);
            }
        }

        if (info is null || format is null)
        {
            var sniffed = SkiaImageDecoder.Sniff(encoded);
            throw new ZetaPrepException(sniffed is null
                ? $"{name}: not an image (unrecognised format)"
                : $"{name}: truncated or corrupt {sniffed} data (unreadable header)");
        }

        if (info.Width < 1 || info.Height < 1)
        {
            throw new ZetaPrepException($"{name}: truncated or corrupt {format.Name.ToUpperInvariant()} data (zero-sized image)");
        }

        // Skia's rules, which the default codecs follow: a JPEG's or WebP's EXIF orientation applies, a PNG's eXIf one does
        // not (the PNG extension calls Exif data historical unless known to be valid).
        var orientation = format is PngFormat ? (ushort)1 : Orientation(info.Metadata.ExifProfile);
        bool swap = orientation >= 5;
        return (new ImageHeader(format.Name.ToUpperInvariant(), swap ? info.Height : info.Width, swap ? info.Width : info.Height), orientation);
    }

    /// <summary>The EXIF orientation 1–8 (1 when absent or out of range), as <see cref="AutoOrientExtensions.AutoOrient"/> reads it.</summary>
    private static ushort Orientation(ExifProfile? exif)
    {
        var value = exif?.GetValue(ExifTag.Orientation)?.Value ?? 1;
        return value is >= 1 and <= 8 ? value : (ushort)1;
    }

    private Image<TPixel> Load<TPixel>(ReadOnlySpan<byte> encoded, string name, string format)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        try
        {
            var image = Image.Load<TPixel>(_configuration, encoded);
            // Animated GIF/WebP: the first frame is the image; resizing the rest would be wasted work.
            while (image.Frames.Count > 1)
            {
                image.Frames.RemoveFrame(image.Frames.Count - 1);
            }

            return image;
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new ZetaPrepException(e is NotSupportedException
                ? $"{name}: --codec imagesharp cannot decode this {format} ({e.Message.TrimEnd('.')}); use --codec skia (or auto) for it"
                : $"{name}: truncated or corrupt {format} data{Detail(e)}", e);
        }
    }

    /// <summary>
    /// Any exception from ImageSharp's Identify/Load is about the bytes: its format errors, and (found by DecoderFuzzTests)
    /// crashes such as NullReferenceException on crafted headers. Running out of memory and cancellation are not.
    /// </summary>
    private static bool IsDecodeFailure(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    /// <summary>" (ImageSharp: …)" for an exception that is not one of ImageSharp's own format errors, so its type is not lost.</summary>
    private static string Detail(Exception e) =>
        e is ImageFormatException or InvalidMemoryOperationException ? "" : $" (ImageSharp failed with {e.GetType().Name})";

    /// <summary>Crop/resize in stored orientation, then orient the small result: one resampling pass, and the rotation touches only size² pixels.</summary>
    private static void Resample<TPixel>(Image<TPixel> image, ImageHeader header, ushort orientation, int size, ResizeMode mode, Span<byte> rgbOut)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        bool swap = orientation >= 5;
        int dw = header.Width, dh = header.Height;

        // Display-space size of the resampled picture and where it sits in the output.
        int outW, outH;
        Rectangle source;
        switch (mode)
        {
            case ResizeMode.Crop:
                {
                    // The centred square is the same square in stored and display orientation.
                    int side = Math.Min(image.Width, image.Height);
                    source = new Rectangle((image.Width - side) / 2, (image.Height - side) / 2, side, side);
                    outW = outH = size;
                    break;
                }
            case ResizeMode.Pad:
                {
                    // Same rounding as Resampler.Geometry: a whole-pixel image, so the bars are exact black.
                    int longest = Math.Max(dw, dh);
                    outW = Math.Max(1, (int)Math.Round((double)dw * size / longest));
                    outH = Math.Max(1, (int)Math.Round((double)dh * size / longest));
                    source = new Rectangle(0, 0, image.Width, image.Height);
                    break;
                }
            case ResizeMode.Stretch:
                outW = outH = size;
                source = new Rectangle(0, 0, image.Width, image.Height);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown resize mode");
        }

        int storedW = swap ? outH : outW, storedH = swap ? outW : outH;
        // The image carries this decoder's configuration from Load, so Mutate runs single-threaded on our allocator.
        image.Mutate(c =>
        {
            if (source.Width != storedW || source.Height != storedH || source.X != 0 || source.Y != 0)
            {
                c.Resize(storedW, storedH, Sampler, source, new Rectangle(0, 0, storedW, storedH), compand: false);
            }

            if (orientation != 1)
            {
                c.AutoOrient();
            }
        });

        int ox = (size - outW) / 2, oy = (size - outH) / 2;
        if (outW != size || outH != size)
        {
            rgbOut.Clear();
        }

        for (int y = 0; y < outH; y++)
        {
            var row = image.DangerousGetPixelRowMemory(y).Span;
            var dst = rgbOut.Slice((((oy + y) * size) + ox) * 3, outW * 3);
            PackRow(row, dst);
        }
    }

    /// <summary>One row to RGB24; alpha is composited on black (premultiplied colour, rounded).</summary>
    private static void PackRow<TPixel>(ReadOnlySpan<TPixel> row, Span<byte> dst)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        if (typeof(TPixel) == typeof(Rgb24))
        {
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(row).CopyTo(dst);
            return;
        }

        var rgba = System.Runtime.InteropServices.MemoryMarshal.Cast<TPixel, Rgba32>(row);
        for (int x = 0, d = 0; x < rgba.Length; x++, d += 3)
        {
            var p = rgba[x];
            int a = p.A;
            dst[d] = (byte)(((p.R * a) + 127) / 255);
            dst[d + 1] = (byte)(((p.G * a) + 127) / 255);
            dst[d + 2] = (byte)(((p.B * a) + 127) / 255);
        }
    }
}
