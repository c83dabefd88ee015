using System.IO.Compression;
using System.Security.Cryptography;
using ZetaPrep.Imaging;

namespace ZetaPrep.Tests.Imaging;

public sealed class HuffmanDeflateTests
{
    private static byte[] Inflate(ReadOnlySpan<byte> zlib)
    {
        using var input = new MemoryStream(zlib.ToArray());
        using var z = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        z.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Compress(byte[] data)
    {
        var dst = new byte[HuffmanDeflate.MaxCompressedLength(data.Length)];
        return dst.AsSpan(0, HuffmanDeflate.Compress(data, dst)).ToArray();
    }

    public static TheoryData<string> Inputs() => ["empty", "one", "same", "two-values", "skewed", "random", "many-blocks", "block-edge"];

    private static byte[] Input(string kind)
    {
        var rng = new Random(kind.Length);
        switch (kind)
        {
            case "empty": return [];
            case "one": return [42];
            case "same": return Enumerable.Repeat((byte)7, 40_000).ToArray();
            case "two-values": return Enumerable.Range(0, 5000).Select(i => (byte)(i % 3 == 0 ? 1 : 200)).ToArray();
            case "skewed":
                {
                    // Fibonacci-like counts: an unlimited Huffman code would need > 15 bits for the rare bytes.
                    var list = new List<byte>();
                    long a = 1, b = 1;
                    for (int s = 0; s < 26; s++)
                    {
                        list.AddRange(Enumerable.Repeat((byte)s, (int)a));
                        (a, b) = (b, a + b);
                    }
                    return [.. list.OrderBy(_ => rng.Next())];
                }
            case "random":
                {
                    var r = new byte[50_000];
                    rng.NextBytes(r);
                    return r;
                }
            case "many-blocks": return Enumerable.Range(0, (HuffmanDeflate.BlockSize * 5) + 123).Select(i => (byte)((i * i) >> 7)).ToArray();
            default: return Enumerable.Range(0, HuffmanDeflate.BlockSize * 2).Select(i => (byte)(i / 100)).ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Zlib_inflates_it_back_exactly(string kind)
    {
        var data = Input(kind);
        var z = Compress(data);
        Assert.Equal(data, Inflate(z));
        Assert.True(z.Length <= HuffmanDeflate.MaxCompressedLength(data.Length));
        Assert.Equal(0x78, z[0]);
        Assert.Equal(0, ((z[0] << 8) | z[1]) % 31); // valid zlib header check bits
    }

    [Fact]
    public void Skewed_bytes_compress_and_noise_is_stored_not_inflated()
    {
        var same = Input("same");
        Assert.True(Compress(same).Length < same.Length / 7); // 1 bit per byte plus headers
        var noise = Input("random");
        Assert.True(Compress(noise).Length <= noise.Length + (5 * 4) + 6); // stored blocks: 5 bytes each + zlib framing
    }

    [Fact]
    public void Code_lengths_are_limited_complete_and_follow_the_counts()
    {
        // Fibonacci counts over 30 symbols: unlimited depth would be 29.
        var freq = new int[30];
        long a = 1, b = 1;
        for (int s = 0; s < freq.Length; s++)
        {
            freq[s] = (int)a;
            (a, b) = (b, a + b);
        }
        var lengths = new byte[30];
        HuffmanDeflate.BuildLengths(freq, lengths, 15);
        Assert.All(lengths, l => Assert.InRange(l, 1, 15));
        Assert.Equal(1.0, lengths.Sum(l => Math.Pow(2, -l)), 12); // Kraft equality: a complete prefix code
        Assert.True(lengths[^1] <= lengths[0]); // the most frequent symbol never gets the longer code

        // A single used symbol still yields a two-code (complete) tree, as deflate decoders expect.
        var one = new int[19];
        one[5] = 100;
        var l19 = new byte[19];
        HuffmanDeflate.BuildLengths(one, l19, 7);
        Assert.Equal(2, l19.Count(l => l > 0));
        Assert.Equal(1, l19[5]);
    }

    [Fact]
    public void Code_lengths_break_ties_by_symbol_as_a_plain_sort_of_count_and_symbol_does()
    {
        // The leaves' order (count, then symbol) decides the tree when counts tie, and so the shard bytes. A reference
        // two-queue Huffman over leaves ordered by Array.Sort of packed (count, symbol) keys, the order used up to the
        // twelfth session, must agree on frequency sets full of ties and zeros, with counts needing one to four radix passes
        // (the largest also exceed 15 bits, so the counts are halved and the tree built again).
        var rng = new Random(1951);
        foreach (var range in new[] { 2, 5, 300, 70_000, 1 << 26 })
        {
            for (int t = 0; t < 200; t++)
            {
                var n = t % 2 == 0 ? 257 : 19;
                var freq = new int[n];
                for (int s = 0; s < n; s++)
                {
                    freq[s] = rng.Next(4) == 0 ? 0 : rng.Next(1, range);
                }
                var lengths = new byte[n];
                HuffmanDeflate.BuildLengths(freq, lengths, 15);
                Assert.Equal(ReferenceLengths(freq), lengths);
            }
        }
    }

    private static byte[] ReferenceLengths(int[] freq)
    {
        var f = (int[])freq.Clone();
        for (int s = 0, used = f.Count(c => c > 0); used < 2 && s < f.Length; s++)
        {
            if (f[s] == 0)
            {
                f[s] = 1;
                used++;
            }
        }
        // Like BuildLengths: halve the counts until no code is longer than 15 bits.
        while (true)
        {
            if (ReferenceTry(f) is { } lengths)
            {
                return lengths;
            }
            for (int s = 0; s < f.Length; s++)
            {
                f[s] = f[s] > 0 ? Math.Max(1, f[s] >> 1) : 0;
            }
        }
    }

    private static byte[]? ReferenceTry(int[] f)
    {
        var keys = Enumerable.Range(0, f.Length).Where(s => f[s] > 0).Select(s => ((long)f[s] << 9) | (uint)s).ToArray();
        Array.Sort(keys);
        var leaves = keys.Select(k => (int)(k & 0x1FF)).ToArray();
        int m = leaves.Length;
        var weight = new long[(2 * m) - 1];
        var parent = new int[(2 * m) - 1];
        for (int i = 0; i < m; i++)
        {
            weight[i] = f[leaves[i]];
        }
        int leaf = 0, inner = m;
        int Pick(int made) => leaf < m && (inner >= made || weight[leaf] <= weight[inner]) ? leaf++ : inner++;
        for (int made = m; made < (2 * m) - 1; made++)
        {
            int a = Pick(made), b = Pick(made);
            weight[made] = weight[a] + weight[b];
            parent[a] = parent[b] = made;
        }
        var depth = new int[(2 * m) - 1];
        for (int i = (2 * m) - 3; i >= 0; i--)
        {
            depth[i] = depth[parent[i]] + 1;
        }
        var lengths = new byte[f.Length];
        for (int i = 0; i < m; i++)
        {
            if (depth[i] > 15)
            {
                return null;
            }
            lengths[leaves[i]] = (byte)depth[i];
        }
        return lengths;
    }

    [Fact]
    public void Adler32_matches_the_rfc_1950_examples()
    {
        Assert.Equal(0x11E60398u, HuffmanDeflate.Adler32("Wikipedia"u8));
        Assert.Equal(1u, HuffmanDeflate.Adler32([]));
        var big = Enumerable.Repeat((byte)0xFF, 100_000).ToArray(); // crosses the 5552-byte modulo chunks with the largest sums
        Assert.Equal(Adler32Definition(big), HuffmanDeflate.Adler32(big));
    }

    /// <summary>RFC 1950's definition, one byte at a time with the modulo after each: the oracle for the chunked/vector code.</summary>
    private static uint Adler32Definition(ReadOnlySpan<byte> data)
    {
        uint s1 = 1, s2 = 0;
        foreach (var x in data)
        {
            s1 = (s1 + x) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        return (s2 << 16) | s1;
    }

    [Fact]
    public void Adler32_matches_the_per_byte_definition_at_every_length_and_alignment()
    {
        // The vector path takes 32 bytes at a time in runs of up to 5536 bytes; lengths and offsets around those edges.
        var rng = new Random(1950);
        var data = new byte[70_000];
        rng.NextBytes(data);
        int[] lengths = [0, 1, 31, 32, 33, 63, 64, 65, 5535, 5536, 5537, 5552, 5553, 11_072, 11_104, 65_536, 69_999];
        foreach (var length in lengths.Concat(Enumerable.Range(0, 40).Select(_ => rng.Next(data.Length))))
        {
            var span = data.AsSpan(rng.Next(0, data.Length - length + 1), length);
            Assert.Equal(Adler32Definition(span), HuffmanDeflate.Adler32(span));
        }
    }

    [Fact]
    public void Output_bytes_are_pinned()
    {
        // The stream is part of every shard's bytes: a change to block splitting, code building (tie order) or bit
        // packing must be deliberate. Nine blocks of small residuals (like Up-filtered photo rows), then a noise block (stored).
        var rng = new Random(7);
        var data = new byte[HuffmanDeflate.BlockSize * 10];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i < HuffmanDeflate.BlockSize * 9 ? ((i / 977) % 11) + rng.Next(-3, 4) : rng.Next(256));
        }
        Assert.Equal("dd3e2e8fd83c1425479b7957508cb818b36785473c3fc6ed26304715d7105c54", Convert.ToHexStringLower(SHA256.HashData(Compress(data))));
    }
}
