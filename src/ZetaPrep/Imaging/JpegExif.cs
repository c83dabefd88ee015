using System.Buffers.Binary;
using SkiaSharp;

namespace ZetaPrep.Imaging;

/// <summary>
/// A JPEG's EXIF orientation read the way Skia's JPEG codec reads it, without Skia: TurboJpegDecoder's JPEG path then
/// never touches SkiaSharp, whose static initialiser opens every font file on the system (~20 ms per process here).
/// </summary>
/// <remarks>
/// Skia (SkJpegCodec, SkParseEncodedOrigin) looks at the first APP1 marker before the first scan whose data begins
/// "Exif\0" plus one padding byte (a later one is ignored); in the TIFF that follows ("II*\0" or "MM\0*", IFD0 at the given offset) it takes the
/// first entry with tag 0x0112, type SHORT and count 1 whose value is 1–8. Anything else, including a damaged marker
/// or IFD, is the default top-left. JpegExifTests checks this against Skia on crafted variants.
/// </remarks>
internal static class JpegExif
{
    private const int Soi = 0xD8;
    private const int Sos = 0xDA;
    private const int Eoi = 0xD9;
    private const int App1 = 0xE1;

    /// <summary>The orientation Skia would report for <paramref name="jpeg"/>.</summary>
    public static SKEncodedOrigin Origin(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != Soi)
        {
            return SKEncodedOrigin.TopLeft;
        }
        int pos = 2;
        while (pos + 1 < jpeg.Length)
        {
            if (jpeg[pos] != 0xFF)
            {
                return SKEncodedOrigin.TopLeft; // not a marker where one must be: ImageIntegrity rejects the file
            }
            int marker = jpeg[pos + 1];
            if (marker == 0xFF)
            {
                pos++; // fill byte
                continue;
            }
            if (marker is Sos or Eoi)
            {
                return SKEncodedOrigin.TopLeft; // libjpeg reads (and Skia sees) markers only up to the first scan
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                pos += 2;
                continue;
            }
            if (pos + 4 > jpeg.Length)
            {
                return SKEncodedOrigin.TopLeft;
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(pos + 2)..]);
            if (length < 2 || pos + 2 + length > jpeg.Length)
            {
                return SKEncodedOrigin.TopLeft;
            }
            var data = jpeg.Slice(pos + 4, length - 2);
            if (marker == App1 && data.Length >= 6 && data[..5].SequenceEqual("Exif\0"u8))
            {
                return TryTiffOrigin(data[6..], out var origin) ? origin : SKEncodedOrigin.TopLeft; // the first one only
            }
            pos += 2 + length;
        }
        return SKEncodedOrigin.TopLeft;
    }

    /// <summary>SkParseEncodedOrigin: IFD0's first valid Orientation entry, or false.</summary>
    private static bool TryTiffOrigin(ReadOnlySpan<byte> tiff, out SKEncodedOrigin origin)
    {
        origin = SKEncodedOrigin.TopLeft;
        if (tiff.Length < 8)
        {
            return false;
        }
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I' && tiff[2] == 0x2A && tiff[3] == 0)
        {
            little = true;
        }
        else if (tiff[0] == 'M' && tiff[1] == 'M' && tiff[2] == 0 && tiff[3] == 0x2A)
        {
            little = false;
        }
        else
        {
            return false;
        }
        ulong offset = U32(tiff[4..], little);
        if ((ulong)tiff.Length < offset + 2)
        {
            return false;
        }
        int entries = U16(tiff[(int)offset..], little);
        const int EntrySize = 12;
        entries = (int)Math.Min((ulong)entries, ((ulong)tiff.Length - offset - 2) / EntrySize);
        var entry = tiff[((int)offset + 2)..];
        for (int i = 0; i < entries; i++, entry = entry[EntrySize..])
        {
            if (U16(entry, little) == 0x0112 && U16(entry[2..], little) == 3 && U32(entry[4..], little) == 1)
            {
                int value = U16(entry[8..], little);
                if (value is >= 1 and <= 8)
                {
                    origin = (SKEncodedOrigin)value;
                    return true;
                }
            }
        }
        return false;
    }

    private static ushort U16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint U32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
}
