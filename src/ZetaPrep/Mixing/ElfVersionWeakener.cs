using System.Buffers.Binary;
using System.Text;

namespace ZetaPrep.Mixing;

/// <summary>
/// Marks one symbol-version requirement of an ELF64 shared library weak (VER_FLG_WEAK), so the dynamic loader
/// accepts a libstdc++ that lacks that version. Pure: bytes in, patched bytes out (FACTS.md §1).
/// </summary>
/// <remarks>
/// TorchSharp 0.107.0's libLibTorchSharp.so was built with GCC 13 and needs GLIBCXX_3.4.32 only for
/// <c>_ZSt21ios_base_library_initv</c>, which nothing calls; Debian 12's libstdc++ stops at 3.4.30. A weak
/// version need makes glibc warn-and-continue instead of refusing the load. The patch is refused unless that
/// symbol is the only one bound to the version, since weakening a version a real call depends on would turn a
/// clean load failure into a crash at the first call.
/// </remarks>
internal static class ElfVersionWeakener
{
    internal const string ShimVersion = "GLIBCXX_3.4.32";
    internal const string ShimOnlySymbol = "_ZSt21ios_base_library_initv";

    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 0x2;
    private const int SectionHeaderSize = 64;
    private const int SymbolSize = 24;
    private const int VerneedSize = 16;
    private const int VernauxSize = 16;

    /// <summary>Returns a copy of <paramref name="elf"/> with the version need weakened (exactly one byte differs), or an identical copy if it already is weak.</summary>
    /// <exception cref="InvalidDataException">Not a little-endian ELF64 file, no such version need, or another symbol uses that version.</exception>
    internal static byte[] Weaken(ReadOnlySpan<byte> elf, string versionName = ShimVersion, string onlySymbol = ShimOnlySymbol)
    {
        var offset = FindFlagsOffset(elf, versionName, onlySymbol);
        var patched = elf.ToArray();
        patched[offset] |= (byte)VerFlgWeak;
        return patched;
    }

    /// <summary>Byte offset of the low byte of <c>vna_flags</c> of the Vernaux entry named <paramref name="versionName"/>, after checking that only <paramref name="onlySymbol"/> uses it.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Weaken"/>.</exception>
    internal static int FindFlagsOffset(ReadOnlySpan<byte> elf, string versionName = ShimVersion, string onlySymbol = ShimOnlySymbol)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a little-endian ELF64 file");
        }

        var shoff = ReadOffset(elf, 0x28);
        int shentsize = U16(elf, 0x3A);
        int shnum = U16(elf, 0x3C);
        if (shentsize != SectionHeaderSize || shnum == 0 || shoff + ((long)shnum * shentsize) > elf.Length)
        {
            throw new InvalidDataException("ELF section header table is missing or out of bounds");
        }

        int verneed = -1, versym = -1, dynsym = -1;
        for (var i = 0; i < shnum; i++)
        {
            var type = U32(elf, (int)shoff + (i * shentsize) + 4);
            switch (type)
            {
                case ShtGnuVerneed: verneed = i; break;
                case ShtGnuVersym: versym = i; break;
                case ShtDynsym: dynsym = i; break;
                default: break;
            }
        }

        if (verneed < 0 || versym < 0 || dynsym < 0)
        {
            throw new InvalidDataException("ELF file has no .gnu.version_r, .gnu.version or .dynsym section");
        }

        var (needOff, needSize, needLink, needCount) = Section(elf, shoff, verneed);
        var (needStrOff, needStrSize, _, _) = Section(elf, shoff, needLink);
        var wanted = Encoding.ASCII.GetBytes(versionName);

        // Walk Verneed → Vernaux chains (vn_next/vna_next are byte offsets relative to the current entry).
        int flagsOffset = -1, versionIndex = -1;
        var need = needOff;
        for (uint n = 0; n < needCount; n++)
        {
            Check(need, VerneedSize, needOff, needSize);
            int auxCount = U16(elf, need + 2);
            var aux = need + (int)U32(elf, need + 8);
            for (var a = 0; a < auxCount; a++)
            {
                Check(aux, VernauxSize, needOff, needSize);
                var name = CString(elf, needStrOff, needStrSize, U32(elf, aux + 8));
                if (name.SequenceEqual(wanted))
                {
                    flagsOffset = aux + 4;
                    versionIndex = U16(elf, aux + 6) & 0x7fff;
                }

                aux += (int)U32(elf, aux + 12);
            }

            var next = (int)U32(elf, need + 12);
            if (next == 0)
            {
                break;
            }

            need += next;
        }

        if (flagsOffset < 0)
        {
            throw new InvalidDataException($"ELF file has no version need named {versionName}");
        }

        // Every dynamic symbol whose .gnu.version entry is that index must be the one harmless symbol.
        var (symOff, symSize, symLink, _) = Section(elf, shoff, dynsym);
        var (symStrOff, symStrSize, _, _) = Section(elf, shoff, symLink);
        var (verOff, verSize, _, _) = Section(elf, shoff, versym);
        var symbols = symSize / SymbolSize;
        if (verSize < symbols * 2)
        {
            throw new InvalidDataException(".gnu.version is shorter than .dynsym");
        }

        var allowed = Encoding.ASCII.GetBytes(onlySymbol);
        var users = 0;
        for (var s = 0; s < symbols; s++)
        {
            if ((U16(elf, verOff + (s * 2)) & 0x7fff) != versionIndex)
            {
                continue;
            }

            var symName = CString(elf, symStrOff, symStrSize, U32(elf, symOff + (s * SymbolSize)));
            if (!symName.SequenceEqual(allowed))
            {
                throw new InvalidDataException(
                    $"symbol {Encoding.ASCII.GetString(symName)} needs {versionName}; only {onlySymbol} may, so weakening it is unsafe");
            }

            users++;
        }

        if (users == 0)
        {
            throw new InvalidDataException($"no dynamic symbol uses {versionName} (expected {onlySymbol}); unexpected library layout");
        }

        return flagsOffset;
    }

    private static (int Offset, int Size, int Link, uint Info) Section(ReadOnlySpan<byte> elf, long shoff, int index)
    {
        var header = (int)shoff + (index * SectionHeaderSize);
        if (header + SectionHeaderSize > elf.Length)
        {
            throw new InvalidDataException("ELF section index out of bounds");
        }

        var offset = ReadOffset(elf, header + 0x18);
        var size = ReadOffset(elf, header + 0x20);
        if (offset + size > elf.Length)
        {
            throw new InvalidDataException("ELF section out of bounds");
        }

        return ((int)offset, (int)size, (int)U32(elf, header + 0x28), U32(elf, header + 0x2C));
    }

    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> elf, int tableOffset, int tableSize, uint nameOffset)
    {
        if (nameOffset >= tableSize)
        {
            throw new InvalidDataException("ELF string offset out of bounds");
        }

        var rest = elf.Slice(tableOffset + (int)nameOffset, tableSize - (int)nameOffset);
        var end = rest.IndexOf((byte)0);
        return end < 0 ? throw new InvalidDataException("unterminated ELF string") : rest[..end];
    }

    private static void Check(int offset, int length, int sectionOffset, int sectionSize)
    {
        if (offset < sectionOffset || offset + length > sectionOffset + sectionSize)
        {
            throw new InvalidDataException("ELF version entry out of bounds");
        }
    }

    private static long ReadOffset(ReadOnlySpan<byte> elf, int at)
    {
        var value = BinaryPrimitives.ReadUInt64LittleEndian(elf[at..]);
        return value > int.MaxValue ? throw new InvalidDataException("ELF offset out of range") : (long)value;
    }

    private static uint U32(ReadOnlySpan<byte> elf, int at) =>
        at < 0 || at + 4 > elf.Length ? throw new InvalidDataException("ELF read out of bounds") : BinaryPrimitives.ReadUInt32LittleEndian(elf[at..]);

    private static ushort U16(ReadOnlySpan<byte> elf, int at) =>
        at < 0 || at + 2 > elf.Length ? throw new InvalidDataException("ELF read out of bounds") : BinaryPrimitives.ReadUInt16LittleEndian(elf[at..]);
}
