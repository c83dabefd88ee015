using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;

namespace ZetaPrep.Imaging;

/// <summary>
/// Structural checks of encoded PNG and JPEG files, cheap enough to run on every input before planning: PNG chunk
/// CRCs, IHDR/IDAT/IEND order and a full inflate of the image data; JPEG marker walk through every scan to EOI.
/// They catch truncation and corruption before any shard is written, so a bad file stops (or is skipped from) the
/// plan rather than failing half-way through a run.
/// </summary>
public static class ImageIntegrity
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Throws a one-line <see cref="ZetaPrepException"/> naming <paramref name="name"/> when the file is damaged.</summary>
    public static void Check(ReadOnlySpan<byte> encoded, string name)
    {
        if (encoded.StartsWith(PngSignature))
        {
            CheckPng(encoded, name);
        }
        else if (encoded.Length >= 3 && encoded[0] == 0xFF && encoded[1] == 0xD8 && encoded[2] == 0xFF)
        {
            CheckJpeg(encoded, name);
        }
        // Other formats (GIF, WebP, BMP) are left to the decoder.
    }

    private static void CheckPng(ReadOnlySpan<byte> png, string name)
    {
        var pos = PngSignature.Length;
        var sawHeader = false;
        var sawEnd = false;
        long idatBytes = 0;
        var chunks = 0;
        while (pos < png.Length)
        {
            if (png.Length - pos < 12)
            {
                throw Bad(name, $"truncated PNG (chunk header cut at byte {pos})");
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            var type = png.Slice(pos + 4, 4);
            if (length > int.MaxValue || png.Length - pos - 12 < (long)length)
            {
                throw Bad(name, $"truncated PNG ({TypeName(type)} chunk at byte {pos} claims {length} bytes, file ends first)");
            }
            var body = png.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (Crc32.HashToUInt32(png.Slice(pos + 4, 4 + (int)length)) != crc)
            {
                throw Bad(name, $"corrupt PNG ({TypeName(type)} chunk at byte {pos} fails its CRC)");
            }
            if (chunks == 0 && !type.SequenceEqual("IHDR"u8))
            {
                throw Bad(name, "corrupt PNG (first chunk is not IHDR)");
            }
            sawHeader |= type.SequenceEqual("IHDR"u8);
            if (type.SequenceEqual("IDAT"u8))
            {
                idatBytes += length;
            }
            chunks++;
            pos += 12 + (int)length;
            if (type.SequenceEqual("IEND"u8))
            {
                sawEnd = true;
                break;
            }
        }
        if (!sawHeader || !sawEnd)
        {
            throw Bad(name, "truncated PNG (no IEND chunk)");
        }
        if (idatBytes == 0)
        {
            throw Bad(name, "corrupt PNG (no image data)");
        }
        InflateIdat(png, name);
    }

    /// <summary>Inflates the concatenated IDAT data to its end: a damaged deflate stream fails here, not in a decoder mid-run.</summary>
    private static void InflateIdat(ReadOnlySpan<byte> png, string name)
    {
        var data = new MemoryStream();
        var pos = PngSignature.Length;
        while (pos + 12 <= png.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (png.Slice(pos + 4, 4).SequenceEqual("IDAT"u8))
            {
                data.Write(png.Slice(pos + 8, length));
            }
            pos += 12 + length;
        }
        data.Position = 0;
        var sink = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            using var z = new ZLibStream(data, CompressionMode.Decompress);
            while (z.Read(sink, 0, sink.Length) > 0)
            {
            }
        }
        catch (InvalidDataException e)
        {
            throw Bad(name, $"corrupt PNG image data ({e.Message.TrimEnd('.')})");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sink);
        }
    }

    private static void CheckJpeg(ReadOnlySpan<byte> jpeg, string name)
    {
        var pos = 2;
        var sawFrame = false;
        while (true)
        {
            // Markers may be preceded by fill bytes 0xFF.
            if (pos >= jpeg.Length || jpeg[pos] != 0xFF)
            {
                throw pos >= jpeg.Length
                    ? Bad(name, "truncated JPEG (no end-of-image marker)")
                    : Bad(name, string.Create(CultureInfo.InvariantCulture, $"corrupt JPEG (expected a marker at byte {pos})"));
            }
            while (pos < jpeg.Length && jpeg[pos] == 0xFF)
            {
                pos++;
            }
            if (pos >= jpeg.Length)
            {
                throw Bad(name, "truncated JPEG (no end-of-image marker)");
            }
            var marker = jpeg[pos++];
            if (marker == 0xD9)
            {
                if (!sawFrame)
                {
                    throw Bad(name, "corrupt JPEG (no frame header before end of image)");
                }
                return;
            }
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                continue; // Stand-alone markers: no length.
            }
            if (jpeg.Length - pos < 2)
            {
                throw Bad(name, "truncated JPEG (segment length cut)");
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[pos..]);
            if (length < 2 || jpeg.Length - pos < length)
            {
                throw Bad(name, string.Create(CultureInfo.InvariantCulture, $"truncated JPEG (segment 0xFF{marker:X2} at byte {pos - 2} runs past the end)"));
            }
            sawFrame |= marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            pos += length;
            if (marker == 0xDA)
            {
                if (!sawFrame)
                {
                    throw Bad(name, "corrupt JPEG (scan before frame header)");
                }
                // Entropy-coded data: skip to the next marker that is not a stuffed 0xFF00 or a restart marker.
                while (true)
                {
                    var next = jpeg[pos..].IndexOf((byte)0xFF);
                    if (next < 0 || pos + next + 1 >= jpeg.Length)
                    {
                        throw Bad(name, "truncated JPEG (scan data runs to the end of the file, no end-of-image marker)");
                    }
                    pos += next;
                    var b = jpeg[pos + 1];
                    if (b == 0x00 || b is >= 0xD0 and <= 0xD7 || b == 0xFF)
                    {
                        pos += b == 0xFF ? 1 : 2;
                        continue;
                    }
                    break;
                }
            }
        }
    }

    private static string TypeName(ReadOnlySpan<byte> type)
    {
        Span<char> chars = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            chars[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        }
        return new string(chars);
    }

    private static ZetaPrepException Bad(string name, string what) => new($"{name}: {what}; re-download or remove the file (or pass --on-error skip).");
}
