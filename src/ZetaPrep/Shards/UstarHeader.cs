using System.Text;

namespace ZetaPrep.Shards;

/// <summary>Plain POSIX ustar headers for regular files, deterministic (mtime 0, uid/gid 0, mode 0644, empty owner names): what the strict wids reader expects (FACTS.md §4).</summary>
internal static class UstarHeader
{
    public const int BlockSize = 512;

    /// <summary>Largest size that fits the 11 octal digits of the size field (8 GiB − 1).</summary>
    public const long MaxSize = (1L << 33) - 1;

    /// <summary>Fills <paramref name="block"/> (512 bytes) with the header of a regular file; names must be ASCII and ≤ 100 bytes (no prefix field, no pax/GNU long names).</summary>
    public static void Write(Span<byte> block, string name, long size)
    {
        if (block.Length != BlockSize)
        {
            throw new ArgumentException("A tar header is one 512-byte block.", nameof(block));
        }
        if (name.Length is 0 or > 100 || !Ascii.IsValid(name))
        {
            throw new ArgumentException($"Tar member name '{name}' must be 1–100 ASCII bytes (plain ustar, no long-name extensions).", nameof(name));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);

        block.Clear();
        Encoding.ASCII.GetBytes(name, block[..100]);
        Octal(block.Slice(100, 8), 0b110_100_100); // mode 0644
        Octal(block.Slice(108, 8), 0); // uid
        Octal(block.Slice(116, 8), 0); // gid
        Octal(block.Slice(124, 12), size);
        Octal(block.Slice(136, 12), 0); // mtime: fixed, so reruns are byte-identical
        block[156] = (byte)'0'; // typeflag: regular file
        "ustar\0"u8.CopyTo(block.Slice(257, 6));
        "00"u8.CopyTo(block.Slice(263, 2));
        // uname/gname (265, 297) stay empty; devmajor/devminor as zeros like GNU tar's ustar output.
        Octal(block.Slice(329, 8), 0);
        Octal(block.Slice(337, 8), 0);
        // Checksum: byte sum with the field itself read as 8 spaces; written as 6 octal digits, NUL, space.
        block.Slice(148, 8).Fill((byte)' ');
        var sum = Checksum(block);
        Octal(block.Slice(148, 7), sum); // six digits and a NUL

        block[155] = (byte)' ';
    }

    /// <summary>The unsigned byte sum of a header with its checksum field counted as spaces.</summary>
    public static int Checksum(ReadOnlySpan<byte> block)
    {
        var sum = 0;
        for (var i = 0; i < BlockSize; i++)
        {
            sum += i is >= 148 and < 156 ? ' ' : block[i];
        }
        return sum;
    }

    /// <summary>Parses an octal numeric field (digits, then NUL or space padding).</summary>
    public static long ParseOctal(ReadOnlySpan<byte> field)
    {
        long value = 0;
        var i = 0;
        while (i < field.Length && field[i] == ' ')
        {
            i++;
        }
        for (; i < field.Length && field[i] is >= (byte)'0' and <= (byte)'7'; i++)
        {
            value = (value * 8) + (field[i] - '0');
        }
        for (; i < field.Length; i++)
        {
            if (field[i] is not (0 or (byte)' '))
            {
                return -1;
            }
        }
        return value;
    }

    /// <summary>Bytes of zero padding after <paramref name="size"/> bytes of data.</summary>
    public static int Padding(long size) => (int)((BlockSize - (size % BlockSize)) % BlockSize);

    private static void Octal(Span<byte> field, long value)
    {
        // Zero-padded octal digits filling all but the last byte, which is NUL.
        for (var i = field.Length - 2; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
        field[^1] = 0;
    }
}
