using SkiaSharp;
using ZetaPrep.Imaging;
using static ZetaPrep.Tests.Imaging.ImageFixtures;

namespace ZetaPrep.Tests.Imaging;

/// <summary>JpegExif against Skia's own JPEG codec on crafted EXIF segments: the orientation must always agree.</summary>
public sealed class JpegExifTests
{
    private static readonly byte[] Base = Jpeg(16, 8, (x, y) => ((byte)(x * 16), (byte)(y * 32), 90), 90);

    /// <summary>A TIFF with IFD0 at <paramref name="ifdOffset"/> holding <paramref name="entries"/> (tag, type, count, value).</summary>
    private static byte[] Tiff(bool little, uint ifdOffset, (ushort Tag, ushort Type, uint Count, ushort Value)[] entries, int? claimedEntries = null)
    {
        var b = new List<byte>();
        void U16(int v) { if (little) { b.Add((byte)v); b.Add((byte)(v >> 8)); } else { b.Add((byte)(v >> 8)); b.Add((byte)v); } }
        void U32(uint v) { if (little) { U16((int)(v & 0xFFFF)); U16((int)(v >> 16)); } else { U16((int)(v >> 16)); U16((int)(v & 0xFFFF)); } }
        b.AddRange(little ? "II"u8.ToArray() : "MM"u8.ToArray());
        U16(42);
        U32(ifdOffset);
        while (b.Count < ifdOffset)
        {
            b.Add(0);
        }
        U16(claimedEntries ?? entries.Length);
        foreach (var (tag, type, count, value) in entries)
        {
            U16(tag);
            U16(type);
            U32(count);
            U16(value);
            U16(0);
        }
        U32(0);
        return [.. b];
    }

    private static byte[] Segment(int marker, byte[] data) =>
        [0xFF, (byte)marker, (byte)((data.Length + 2) >> 8), (byte)(data.Length + 2), .. data];

    private static byte[] Exif(byte[] tiff, byte pad = 0) => [.. "Exif\0"u8, pad, .. tiff];

    private static byte[] With(params byte[][] segments) => [.. Base.AsSpan(0, 2), .. segments.SelectMany(s => s), .. Base.AsSpan(2)];

    private static readonly (ushort, ushort, uint, ushort)[] NoOrientation = [(0x010F, 2, 4, 0), (0x0110, 2, 4, 0)];

    public static TheoryData<string, byte[]> Variants()
    {
        var d = new TheoryData<string, byte[]>();
        foreach (bool little in new[] { true, false })
        {
            for (ushort v = 0; v <= 9; v++)
            {
                d.Add($"{(little ? "II" : "MM")} value {v}", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, v)])))));
            }
            d.Add($"{little} third entry", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x010F, 2, 4, 0), (0x0110, 2, 4, 0), (0x0112, 3, 1, 6)])))));
            d.Add($"{little} type LONG", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 4, 1, 6)])))));
            d.Add($"{little} count 2", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 2, 6)])))));
            d.Add($"{little} two orientation entries", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 0), (0x0112, 3, 1, 8)])))));
            d.Add($"{little} IFD at 20", With(Segment(0xE1, Exif(Tiff(little, 20, [(0x0112, 3, 1, 5)])))));
            d.Add($"{little} IFD past the end", With(Segment(0xE1, Exif([.. Tiff(little, 8, [(0x0112, 3, 1, 5)])[..4], .. (little ? new byte[] { 0, 1, 0, 0 } : [0, 0, 1, 0])]))));
            d.Add($"{little} claims 40 entries", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 7)], claimedEntries: 40)))));
            d.Add($"{little} pad byte x", With(Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 3)]), pad: (byte)'x'))));
            d.Add($"{little} first Exif without orientation, second with", With(
                Segment(0xE1, Exif(Tiff(little, 8, NoOrientation))), Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 6)])))));
            d.Add($"{little} two Exif segments", With(
                Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 3)]))), Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 6)])))));
            d.Add($"{little} XMP first", With(
                Segment(0xE1, [.. "http://ns.adobe.com/xap/1.0/\0<x/>"u8]), Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 8)])))));
            d.Add($"{little} after JFIF APP0", With(
                Segment(0xE0, [.. "JFIF\0"u8, 1, 1, 0, 0, 1, 0, 1, 0, 0]), Segment(0xE1, Exif(Tiff(little, 8, [(0x0112, 3, 1, 2)])))));
            d.Add($"{little} in APP2", With(Segment(0xE2, Exif(Tiff(little, 8, [(0x0112, 3, 1, 6)])))));
        }
        d.Add("no EXIF", Base);
        d.Add("EXIF signature upper case", With(Segment(0xE1, [.. "EXIF\0\0"u8, .. Tiff(false, 8, [(0x0112, 3, 1, 6)])])));
        d.Add("bad byte order mark", With(Segment(0xE1, Exif([.. "IM"u8, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]))));
        d.Add("TIFF shorter than its header", With(Segment(0xE1, Exif([.. "MM"u8, 0, 42]))));
        d.Add("Exif without pad byte", With(Segment(0xE1, [.. "Exif\0"u8])));
        return d;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Orientation_agrees_with_skia(string variant, byte[] jpeg)
    {
        using var data = SKData.CreateCopy(jpeg);
        using var codec = SKCodec.Create(data);
        Assert.NotNull(codec);
        Assert.True(codec.EncodedOrigin == JpegExif.Origin(jpeg), $"{variant}: Skia {codec.EncodedOrigin}, JpegExif {JpegExif.Origin(jpeg)}");
    }
}
