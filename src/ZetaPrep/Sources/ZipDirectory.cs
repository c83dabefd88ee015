using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace ZetaPrep.Sources;

/// <summary>
/// A zip's central directory read straight from the file (PKWARE APPNOTE 4.3.12–4.3.16, ZIP64 included): each
/// entry's method, flags, CRC-32, sizes and where its local header lies, which <see cref="System.IO.Compression.ZipArchive"/>
/// keeps private. <see cref="ZipImageArchive"/> reads an entry's bytes from there with one positioned read. Anything
/// this reader does not understand (a multi-disk zip, a damaged record) gives null and leaves reading to ZipArchive.
/// </summary>
internal static class ZipDirectory
{
    /// <summary>One central directory record, in directory order.</summary>
    public readonly record struct Record(ushort Flags, ushort Method, uint Crc32, long CompressedSize, long Size, long LocalHeaderOffset);

    /// <summary>Directories over this size are left to ZipArchive (33,126 ISIC 2020 entries take ~3 MB).</summary>
    private const int MaxDirectoryBytes = 256 * 1024 * 1024;

    private const uint EndSignature = 0x06054b50, Zip64EndSignature = 0x06064b50, Zip64LocatorSignature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50;
    private const int EndSize = 22, LocatorSize = 20, Zip64EndSize = 56, CentralSize = 46;

    /// <summary>The records of the zip open in <paramref name="file"/>, or null when it cannot be read here.</summary>
    public static Record[]? TryRead(SafeFileHandle file)
    {
        var length = RandomAccess.GetLength(file);
        if (length < EndSize)
        {
            return null;
        }
        // The end record is the last 22 bytes plus a comment of up to 65,535 bytes; a locator may precede it.
        var tailLength = (int)Math.Min(length, EndSize + ushort.MaxValue + LocatorSize);
        var tail = new byte[tailLength];
        if (!ReadAll(file, tail, length - tailLength))
        {
            return null;
        }
        var end = -1;
        for (var p = tailLength - EndSize; p >= 0; p--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(p)) == EndSignature
                && p + EndSize + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(p + 20)) == tailLength)
            {
                end = p;
                break;
            }
        }
        if (end < 0)
        {
            return null;
        }
        var e = tail.AsSpan(end);
        if (BinaryPrimitives.ReadUInt16LittleEndian(e[4..]) != 0 || BinaryPrimitives.ReadUInt16LittleEndian(e[6..]) != 0)
        {
            return null; // Split over several disks.
        }
        long count = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);
        if (end >= LocatorSize && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end - LocatorSize)) == Zip64LocatorSignature)
        {
            var zip64End = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(end - LocatorSize + 8));
            var record = new byte[Zip64EndSize];
            if (zip64End < 0 || zip64End > length - Zip64EndSize || !ReadAll(file, record, zip64End)
                || BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature
                || BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(16)) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(20)) != 0)
            {
                return null;
            }
            count = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32));
            directorySize = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(40));
            directoryOffset = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(48));
        }
        if (count < 0 || directorySize < 0 || directorySize > MaxDirectoryBytes || count > directorySize / CentralSize
            || directoryOffset < 0 || directoryOffset > length - directorySize)
        {
            return null;
        }
        var directory = new byte[directorySize];
        return ReadAll(file, directory, directoryOffset) ? Parse(directory, (int)count, length) : null;
    }

    private static Record[]? Parse(ReadOnlySpan<byte> directory, int count, long fileLength)
    {
        var records = new Record[count];
        var pos = 0;
        for (var i = 0; i < count; i++)
        {
            if (directory.Length - pos < CentralSize || BinaryPrimitives.ReadUInt32LittleEndian(directory[pos..]) != CentralSignature)
            {
                return null;
            }
            var h = directory[pos..];
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            long disk = BinaryPrimitives.ReadUInt16LittleEndian(h[34..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            var recordLength = CentralSize + nameLength + extraLength + commentLength;
            if (directory.Length - pos < recordLength)
            {
                return null;
            }
            if (size == uint.MaxValue || compressed == uint.MaxValue || offset == uint.MaxValue || disk == ushort.MaxValue)
            {
                // The ZIP64 extra field holds the 8-byte values (then the disk) that the record marks with all ones, in this order.
                var zip64 = FindExtra(h.Slice(CentralSize + nameLength, extraLength), 0x0001);
                if (!TakeWide(ref zip64, ref size) || !TakeWide(ref zip64, ref compressed) || !TakeWide(ref zip64, ref offset))
                {
                    return null;
                }
                if (disk == ushort.MaxValue)
                {
                    if (zip64.Length < 4)
                    {
                        return null;
                    }
                    disk = BinaryPrimitives.ReadUInt32LittleEndian(zip64);
                }
            }
            if (disk != 0 || size < 0 || compressed < 0 || offset < 0 || offset > fileLength - compressed)
            {
                return null;
            }
            records[i] = new Record(flags, method, crc, compressed, size, offset);
            pos += recordLength;
        }
        return records;
    }

    /// <summary>Replaces a 4-byte value marked all ones by the next 8 bytes of the ZIP64 field; false when they are missing.</summary>
    private static bool TakeWide(ref ReadOnlySpan<byte> zip64, ref long value)
    {
        if (value != uint.MaxValue)
        {
            return true;
        }
        if (zip64.Length < 8)
        {
            return false;
        }
        value = BinaryPrimitives.ReadInt64LittleEndian(zip64);
        zip64 = zip64[8..];
        return true;
    }

    private static ReadOnlySpan<byte> FindExtra(ReadOnlySpan<byte> extra, ushort id)
    {
        while (extra.Length >= 4)
        {
            var tag = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (extra.Length - 4 < size)
            {
                break;
            }
            if (tag == id)
            {
                return extra.Slice(4, size);
            }
            extra = extra[(4 + size)..];
        }
        return default;
    }

    /// <summary>Fills <paramref name="into"/> from <paramref name="offset"/>; false when the file ends first.</summary>
    public static bool ReadAll(SafeFileHandle file, Span<byte> into, long offset)
    {
        while (into.Length > 0)
        {
            var n = RandomAccess.Read(file, into, offset);
            if (n <= 0)
            {
                return false;
            }
            into = into[n..];
            offset += n;
        }
        return true;
    }
}
