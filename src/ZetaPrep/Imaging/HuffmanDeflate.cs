using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZetaPrep.Imaging;

/// <summary>
/// A zlib stream (RFC 1950/1951) of literal-only dynamic-Huffman blocks: what zlib's HuffmanOnly strategy writes, without
/// zlib's per-stream state setup, window copy and match bookkeeping — the PNG writer's default (--png-level 1).
/// </summary>
/// <remarks>
/// <para>Blocks of <see cref="BlockSize"/> input bytes, each with its own length-limited (15-bit) Huffman code built from
/// that block's byte histogram (as zlib's 16 K-symbol blocks), or stored when that is smaller (noise). Up-filtered photos
/// come out the size zlib's level 1 HuffmanOnly gives; it measured ~4× faster per 224² image on this VM.</para>
/// <para>Pure managed code with no floating point: the bytes depend only on the input, on every machine.</para>
/// <para>Stack buffers are not zeroed on entry (<see cref="SkipLocalsInitAttribute"/>): a 28×28 image's block spends as
/// long building its code as coding its bytes, and ~6 KB of zeroing per block was a fifth of that. Every buffer here is
/// written before it is read, or cleared where it is a set of counters.</para>
/// </remarks>
[SkipLocalsInit]
internal static class HuffmanDeflate
{
    /// <summary>Input bytes per deflate block.</summary>
    public const int BlockSize = 16384;

    private const int Literals = 257; // 0..255 and end-of-block
    private const int EndOfBlock = 256;
    private const int MaxBits = 15;
    private const int MaxCodeLengthBits = 7;

    /// <summary>Order in which code-length code lengths are sent (RFC 1951 §3.2.7).</summary>
    private static ReadOnlySpan<byte> CodeLengthOrder => [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    /// <summary>Upper bound of <see cref="Compress"/>'s output for <paramref name="length"/> input bytes (every block stored, plus slack for 8-byte writes).</summary>
    public static int MaxCompressedLength(int length) => checked(length + (5 * ((length / BlockSize) + 1)) + 2 + 4 + 16);

    /// <summary>Writes the zlib stream of <paramref name="data"/> into <paramref name="destination"/>; returns its length.</summary>
    public static int Compress(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < MaxCompressedLength(data.Length))
        {
            throw new ArgumentException("destination is shorter than MaxCompressedLength", nameof(destination));
        }

        var w = new BitWriter(destination);
        // CMF 0x78: deflate, 32 K window; FLG 0x01: fastest-compression hint, (0x7801 % 31) == 0.
        w.Bits(0x78, 8);
        w.Bits(0x01, 8);
        Span<int> freq = stackalloc int[Literals];
        Span<byte> lengths = stackalloc byte[Literals];
        Span<ushort> codes = stackalloc ushort[Literals];
        int at = 0;
        do
        {
            int n = Math.Min(BlockSize, data.Length - at);
            var block = data.Slice(at, n);
            at += n;
            WriteBlock(ref w, block, final: at == data.Length, freq, lengths, codes);
        }
        while (at < data.Length);

        w.AlignToByte();
        w.BigEndian32(Adler32(data));
        return w.Finish();
    }

    private static void WriteBlock(ref BitWriter w, scoped ReadOnlySpan<byte> block, bool final, scoped Span<int> freq, scoped Span<byte> lengths, scoped Span<ushort> codes)
    {
        freq.Clear();
        Histogram(block, freq);
        freq[EndOfBlock] = 1;
        BuildLengths(freq, lengths, MaxBits);

        // Code lengths to send: 257 literal/length codes, then 2 distance codes of length 1 (unused, but deflate
        // decoders such as zlib's want a complete distance code; zlib itself sends the same two).
        Span<byte> all = stackalloc byte[Literals + 2];
        lengths.CopyTo(all);
        all[Literals] = 1;
        all[Literals + 1] = 1;
        Span<byte> rle = stackalloc byte[Literals + 2];
        Span<byte> rleExtra = stackalloc byte[Literals + 2];
        int rleCount = RunLengths(all, rle, rleExtra);
        Span<int> clFreq = stackalloc int[19];
        clFreq.Clear();
        for (int i = 0; i < rleCount; i++)
        {
            clFreq[rle[i]]++;
        }
        Span<byte> clLengths = stackalloc byte[19];
        BuildLengths(clFreq, clLengths, MaxCodeLengthBits);
        Span<ushort> clCodes = stackalloc ushort[19];
        CanonicalCodes(clLengths, clCodes);
        int hclen = 19;
        while (hclen > 4 && clLengths[CodeLengthOrder[hclen - 1]] == 0)
        {
            hclen--;
        }

        long dynamicBits = 3 + 5 + 5 + 4 + (3L * hclen);
        for (int i = 0; i < rleCount; i++)
        {
            dynamicBits += clLengths[rle[i]] + ExtraBits(rle[i]);
        }
        for (int s = 0; s < Literals; s++)
        {
            dynamicBits += (long)freq[s] * lengths[s];
        }
        // Stored: 3 header bits, padding to a byte (≤ 7), LEN + NLEN, the bytes.
        long storedBits = 3 + 7 + 32 + (8L * block.Length);
        if (storedBits <= dynamicBits)
        {
            w.Bits(final ? 1u : 0u, 3); // BTYPE 00
            w.AlignToByte();
            w.Bits((uint)block.Length, 16);
            w.Bits((uint)(~block.Length & 0xFFFF), 16);
            w.Bytes(block);
            return;
        }

        CanonicalCodes(lengths, codes);
        w.Bits((final ? 1u : 0u) | (2u << 1), 3); // BTYPE 10: dynamic Huffman
        w.Bits(Literals - 257, 5);
        w.Bits(2 - 1, 5);
        w.Bits((uint)(hclen - 4), 4);
        for (int i = 0; i < hclen; i++)
        {
            w.Bits(clLengths[CodeLengthOrder[i]], 3);
        }
        for (int i = 0; i < rleCount; i++)
        {
            byte sym = rle[i];
            w.Bits(clCodes[sym], clLengths[sym]);
            if (sym >= 16)
            {
                w.Bits(rleExtra[i], ExtraBits(sym));
            }
        }
        Span<uint> table = stackalloc uint[256];
        for (int b = 0; b < 256; b++)
        {
            table[b] = codes[b] | ((uint)lengths[b] << 16);
        }
        w.Symbols(block, table);
        w.Bits(codes[EndOfBlock], lengths[EndOfBlock]);
    }

    private static int ExtraBits(byte codeLengthSymbol) => codeLengthSymbol switch
    {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    };

    /// <summary>Run-length codes for a code-length sequence (RFC 1951 §3.2.7): 16 repeats the previous length 3-6 times, 17/18 give 3-10/11-138 zeros.</summary>
    private static int RunLengths(ReadOnlySpan<byte> lengths, Span<byte> symbols, Span<byte> extra)
    {
        int count = 0, i = 0;
        while (i < lengths.Length)
        {
            byte len = lengths[i];
            int run = 1;
            while (i + run < lengths.Length && lengths[i + run] == len)
            {
                run++;
            }
            i += run;
            if (len == 0)
            {
                while (run >= 11)
                {
                    int r = Math.Min(run, 138);
                    (symbols[count], extra[count++]) = (18, (byte)(r - 11));
                    run -= r;
                }
                if (run >= 3)
                {
                    (symbols[count], extra[count++]) = (17, (byte)(run - 3));
                    run = 0;
                }
            }
            else
            {
                (symbols[count], extra[count++]) = (len, 0);
                run--;
                while (run >= 3)
                {
                    int r = Math.Min(run, 6);
                    (symbols[count], extra[count++]) = (16, (byte)(r - 3));
                    run -= r;
                }
            }
            for (; run > 0; run--)
            {
                (symbols[count], extra[count++]) = (len, 0);
            }
        }
        return count;
    }

    private static void Histogram(ReadOnlySpan<byte> block, Span<int> freq)
    {
        // Four sub-histograms break the store-to-load dependency on runs of equal bytes.
        Span<int> h = stackalloc int[4 * 256];
        h.Clear();
        int i = 0;
        for (; i + 4 <= block.Length; i += 4)
        {
            h[block[i]]++;
            h[256 + block[i + 1]]++;
            h[512 + block[i + 2]]++;
            h[768 + block[i + 3]]++;
        }
        for (; i < block.Length; i++)
        {
            h[block[i]]++;
        }
        for (int s = 0; s < 256; s++)
        {
            freq[s] = h[s] + h[256 + s] + h[512 + s] + h[768 + s];
        }
    }

    /// <summary>Huffman code lengths for <paramref name="freq"/>, none longer than <paramref name="maxBits"/> (frequencies are halved until they fit), at least two codes.</summary>
    internal static void BuildLengths(ReadOnlySpan<int> freq, Span<byte> lengths, int maxBits)
    {
        int n = freq.Length;
        Span<int> f = stackalloc int[n];
        freq.CopyTo(f);
        // A code needs two symbols to be complete; like zlib, give unused symbols a count when there are fewer.
        int used = 0;
        for (int s = 0; s < n; s++)
        {
            used += f[s] > 0 ? 1 : 0;
        }
        for (int s = 0; used < 2 && s < n; s++)
        {
            if (f[s] == 0)
            {
                f[s] = 1;
                used++;
            }
        }

        while (!TryBuild(f, lengths, maxBits))
        {
            for (int s = 0; s < n; s++)
            {
                if (f[s] > 0)
                {
                    f[s] = Math.Max(1, f[s] >> 1);
                }
            }
        }
    }

    /// <summary>Plain Huffman (two-queue method over leaves sorted by count, then symbol); false if a code exceeds maxBits.</summary>
    private static bool TryBuild(ReadOnlySpan<int> f, Span<byte> lengths, int maxBits)
    {
        int n = f.Length;
        Span<int> leaves = stackalloc int[n];
        int m = 0;
        for (int s = 0; s < n; s++)
        {
            if (f[s] > 0)
            {
                leaves[m++] = s;
            }
        }
        leaves = leaves[..m];
        SortByCount(leaves, f);

        // Nodes 0..m-1 are the sorted leaves, m..2m-2 the internal nodes in creation (non-decreasing weight) order.
        Span<long> weight = stackalloc long[(2 * m) - 1];
        Span<int> parent = stackalloc int[(2 * m) - 1];
        for (int i = 0; i < m; i++)
        {
            weight[i] = f[leaves[i]];
        }
        int nextLeaf = 0, nextInternal = m;
        for (int created = m; created < (2 * m) - 1; created++)
        {
            // The lighter of the next leaf and the next internal node, twice; a leaf wins a tie.
            int a = nextLeaf < m && (nextInternal >= created || weight[nextLeaf] <= weight[nextInternal]) ? nextLeaf++ : nextInternal++;
            int b = nextLeaf < m && (nextInternal >= created || weight[nextLeaf] <= weight[nextInternal]) ? nextLeaf++ : nextInternal++;
            weight[created] = weight[a] + weight[b];
            parent[a] = created;
            parent[b] = created;
        }

        // Depths from the root (the last node) down; a node's parent was always created after it.
        Span<int> depth = stackalloc int[(2 * m) - 1];
        depth[(2 * m) - 2] = 0;
        for (int i = (2 * m) - 3; i >= 0; i--)
        {
            depth[i] = depth[parent[i]] + 1;
        }
        lengths.Clear();
        for (int i = 0; i < m; i++)
        {
            if (depth[i] > maxBits)
            {
                return false;
            }
            lengths[leaves[i]] = (byte)depth[i];
        }
        return true;
    }

    /// <summary>
    /// Orders <paramref name="symbols"/> (ascending) by (count, symbol): a stable radix sort on the count, 8 bits a pass
    /// (two for a 16 KiB block). Span.Sort on packed (count, symbol) keys gave the same order, but under native AOT it
    /// compares through <see cref="Comparer{T}"/> calls: a quarter of a 28×28 PNG's encoding time.
    /// </summary>
    private static void SortByCount(Span<int> symbols, ReadOnlySpan<int> count)
    {
        int max = 0;
        foreach (var s in symbols)
        {
            max = Math.Max(max, count[s]);
        }
        Span<int> other = stackalloc int[symbols.Length];
        Span<int> start = stackalloc int[257];
        for (int shift = 0; shift < 32 && (max >> shift) > 0; shift += 8)
        {
            // Only the digits that occur get a bucket: the top digit of a block's counts is small (≤ 64 for 16 KiB).
            int buckets = Math.Min(256, (max >> shift) + 1);
            start[..(buckets + 1)].Clear();
            foreach (var s in symbols)
            {
                start[((count[s] >> shift) & 0xFF) + 1]++;
            }
            for (int d = 1; d <= buckets; d++)
            {
                start[d] += start[d - 1];
            }
            foreach (var s in symbols)
            {
                other[start[(count[s] >> shift) & 0xFF]++] = s;
            }
            other.CopyTo(symbols);
        }
    }

    /// <summary>Canonical codes (RFC 1951 §3.2.2), bit-reversed so they can be written LSB first.</summary>
    internal static void CanonicalCodes(ReadOnlySpan<byte> lengths, Span<ushort> codes)
    {
        Span<int> count = stackalloc int[MaxBits + 1];
        count.Clear();
        foreach (var len in lengths)
        {
            count[len]++;
        }
        count[0] = 0;
        Span<int> next = stackalloc int[MaxBits + 2];
        int code = 0;
        for (int bits = 1; bits <= MaxBits; bits++)
        {
            code = (code + count[bits - 1]) << 1;
            next[bits] = code;
        }
        for (int s = 0; s < lengths.Length; s++)
        {
            int len = lengths[s];
            codes[s] = len == 0 ? (ushort)0 : (ushort)Reverse(next[len]++, len);
        }
    }

    /// <summary>The low <paramref name="bits"/> (≤ 16) of <paramref name="code"/> in reverse order.</summary>
    private static int Reverse(int code, int bits)
    {
        uint v = (uint)code;
        v = ((v >> 1) & 0x5555) | ((v & 0x5555) << 1);
        v = ((v >> 2) & 0x3333) | ((v & 0x3333) << 2);
        v = ((v >> 4) & 0x0F0F) | ((v & 0x0F0F) << 4);
        v = ((v >> 8) & 0x00FF) | ((v & 0x00FF) << 8);
        return (int)(v >> (16 - bits));
    }

    /// <summary>Adler-32's modulus (RFC 1950).</summary>
    private const uint AdlerMod = 65521;

    /// <summary>The most bytes whose Adler-32 sums cannot overflow 32 bits before the modulo.</summary>
    private const int AdlerChunk = 5552;

    /// <summary>Adler-32 (RFC 1950) in chunks of <see cref="AdlerChunk"/> bytes.</summary>
    internal static uint Adler32(ReadOnlySpan<byte> data)
    {
        uint a = 1, b = 0;
        if (Avx2.IsSupported)
        {
            Adler32Avx2(ref data, ref a, ref b);
        }
        while (!data.IsEmpty)
        {
            var chunk = data[..Math.Min(AdlerChunk, data.Length)];
            data = data[chunk.Length..];
            int i = 0;
            for (; i + 4 <= chunk.Length; i += 4)
            {
                a += chunk[i];
                b += a;
                a += chunk[i + 1];
                b += a;
                a += chunk[i + 2];
                b += a;
                a += chunk[i + 3];
                b += a;
            }
            for (; i < chunk.Length; i++)
            {
                a += chunk[i];
                b += a;
            }
            a %= AdlerMod;
            b %= AdlerMod;
        }
        return (b << 16) | a;
    }

    /// <summary>
    /// Adler-32 over the whole 32-byte vectors of <paramref name="data"/> (which it then leaves holding the tail), exact
    /// integer arithmetic, so the same value as the scalar loop. Over 32 bytes x₀…x₃₁ the sums move as
    /// b += 32·a + Σ(32−i)·xᵢ and a += Σxᵢ: per vector, vpsadbw adds the bytes and vpmaddubsw/vpmaddwd the weighted
    /// bytes; the 32·a terms are the running byte sums before each vector, added up in <c>prefix</c>.
    /// </summary>
    private static void Adler32Avx2(ref ReadOnlySpan<byte> data, ref uint a, ref uint b)
    {
        const int MaxVectors = AdlerChunk / 32; // 173 vectors: the scalar chunk bound holds for each partial sum (all ≥ 0)
        var weights = Vector256.Create((sbyte)32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
        var ones = Vector256.Create((short)1);
        ref byte src = ref MemoryMarshal.GetReference(data);
        int vectors = data.Length / 32, at = 0;
        while (vectors > 0)
        {
            int n = Math.Min(vectors, MaxVectors);
            vectors -= n;
            var sums = Vector256<uint>.Zero;
            var prefix = Vector256<uint>.Zero;
            var weighted = Vector256<int>.Zero;
            for (int k = 0; k < n; k++, at += 32)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)at);
                prefix += sums;
                sums += Avx2.SumAbsoluteDifferences(v, Vector256<byte>.Zero).AsUInt32();
                weighted += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(v, weights), ones);
            }
            b += (a * 32 * (uint)n) + (32 * Vector256.Sum(prefix)) + (uint)Vector256.Sum(weighted);
            a += Vector256.Sum(sums);
            a %= AdlerMod;
            b %= AdlerMod;
        }
        data = data[at..];
    }

    /// <summary>LSB-first bit packer over a span, flushing 32 bits at a time.</summary>
    private ref struct BitWriter(Span<byte> dst)
    {
        private readonly Span<byte> _dst = dst;
        private ulong _buf;
        private int _bits;
        private int _at;

        public void Bits(uint value, int count)
        {
            _buf |= (ulong)value << _bits;
            _bits += count;
            if (_bits >= 32)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(_dst[_at..], (uint)_buf);
                _at += 4;
                _buf >>= 32;
                _bits -= 32;
            }
        }

        /// <summary>
        /// Every byte of <paramref name="data"/> as its Huffman code (<paramref name="table"/>: code | length &lt;&lt; 16):
        /// three codes (≤ 45 bits) onto fewer than 8 pending bits, then a branch-free flush of the whole bytes (one
        /// 8-byte store, of which the bytes beyond the whole ones are rewritten by the next store).
        /// </summary>
        public void Symbols(scoped ReadOnlySpan<byte> data, scoped ReadOnlySpan<uint> table)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(table.Length, 256);
            FlushWholeBytes();
            ulong buf = _buf;
            int bits = _bits, at = _at;
            ref byte dst = ref MemoryMarshal.GetReference(_dst);
            ref byte src = ref MemoryMarshal.GetReference(data);
            ref uint codes = ref MemoryMarshal.GetReference(table);
            int i = 0;
            for (; i + 3 <= data.Length; i += 3)
            {
                // Indices are bytes (< 256 = table length) and i + 2 < data.Length: no bounds to check.
                uint c0 = Unsafe.Add(ref codes, Unsafe.Add(ref src, i));
                uint c1 = Unsafe.Add(ref codes, Unsafe.Add(ref src, i + 1));
                uint c2 = Unsafe.Add(ref codes, Unsafe.Add(ref src, i + 2));
                buf |= (ulong)(c0 & 0xFFFF) << bits;
                bits += (int)(c0 >> 16);
                buf |= (ulong)(c1 & 0xFFFF) << bits;
                bits += (int)(c1 >> 16);
                buf |= (ulong)(c2 & 0xFFFF) << bits;
                bits += (int)(c2 >> 16);
                // In bounds: the caller only writes a Huffman block smaller than the stored bound it sized for, and
                // MaxCompressedLength leaves 16 bytes of slack for this 8-byte store.
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, at), BitConverter.IsLittleEndian ? buf : BinaryPrimitives.ReverseEndianness(buf));
                int whole = bits >> 3;
                at += whole;
                buf >>= whole << 3;
                bits &= 7;
            }
            (_buf, _bits, _at) = (buf, bits, at);
            for (; i < data.Length; i++)
            {
                uint c = table[data[i]];
                Bits(c & 0xFFFF, (int)(c >> 16));
            }
        }

        /// <summary>Writes out the whole bytes of the pending bits, leaving fewer than 8.</summary>
        private void FlushWholeBytes()
        {
            while (_bits >= 8)
            {
                _dst[_at++] = (byte)_buf;
                _buf >>= 8;
                _bits -= 8;
            }
        }

        public void AlignToByte()
        {
            int pad = (8 - (_bits & 7)) & 7;
            Bits(0, pad);
            while (_bits > 0)
            {
                _dst[_at++] = (byte)_buf;
                _buf >>= 8;
                _bits -= 8;
            }
            _bits = 0;
        }

        /// <summary>Raw bytes after <see cref="AlignToByte"/> or a whole number of bytes of bits.</summary>
        public void Bytes(scoped ReadOnlySpan<byte> bytes)
        {
            AlignToByte();
            bytes.CopyTo(_dst[_at..]);
            _at += bytes.Length;
        }

        public void BigEndian32(uint value)
        {
            AlignToByte();
            BinaryPrimitives.WriteUInt32BigEndian(_dst[_at..], value);
            _at += 4;
        }

        public int Finish()
        {
            AlignToByte();
            return _at;
        }
    }
}
