using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>
/// <see cref="ZipImageArchive.ReadPooled"/> reads entries where <see cref="ZipDirectory"/> places them: the bytes
/// ZipArchive gives, for stored, deflated and ZIP64 entries, with libdeflate and with DeflateStream; damage is named.
/// </summary>
public sealed class ZipDirectReadTests : IDisposable
{
    /// <summary>Set to 1 (as .ci/run does) to make a missing libdeflate.so.0 a test failure instead of a skipped half.</summary>
    private const string RequireVariable = "ZETAPREP_REQUIRE_LIBDEFLATE";

    private readonly string _root = Directory.CreateTempSubdirectory("zetaprep-zipdirect-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Both inflaters where libdeflate loads; DeflateStream alone where it does not (unless CI requires it).</summary>
    public static TheoryData<bool> Inflaters()
    {
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            Assert.True(Libdeflate.IsAvailable, $"{RequireVariable}=1 but {Libdeflate.Library} does not load; apt-get install libdeflate0");
        }
        return Libdeflate.IsAvailable ? new() { true, false } : new() { false };
    }

    [Theory]
    [MemberData(nameof(Inflaters))]
    public async Task StoredAndDeflatedEntries_ReadDirectly_AsZipArchiveReadsThem(bool libdeflate)
    {
        var random = new Random(11);
        var contents = new (string Name, byte[] Bytes, CompressionLevel Level)[]
        {
            ("a/empty.jpg", [], CompressionLevel.Optimal),
            ("a/one.jpg", [42], CompressionLevel.Optimal),
            ("a/noise.jpg", Noise(random, 300_000), CompressionLevel.Fastest),
            ("b/text.png", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("zeta mixup ", 50_000))), CompressionLevel.SmallestSize),
            ("b/stored.jpg", Noise(random, 70_001), CompressionLevel.NoCompression),
            ("b/stored-empty.jpg", [], CompressionLevel.NoCompression),
            ("c/big.jpg", Noise(random, 3 * 1024 * 1024 + 7), CompressionLevel.Optimal),
        };
        var path = Path.Combine(_root, "mixed.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            zip.CreateEntry("a/"); // A folder record: listed by neither path.
            foreach (var (name, bytes, level) in contents)
            {
                using var stream = zip.CreateEntry(name, level).Open();
                stream.Write(bytes);
            }
        }
        using var archive = new ZipImageArchive(path, libdeflate);
        Assert.Equal(libdeflate, archive.InflatesWithLibdeflate);
        Assert.Equal(contents.Length + 1, archive.DirectEntries);
        foreach (var (name, bytes, _) in contents)
        {
            var reference = await archive.ReadAsync(name, CancellationToken.None);
            using var pooled = archive.ReadPooled(name, bytes.Length, CancellationToken.None);
            Assert.True(pooled.Span.SequenceEqual(bytes), name);
            Assert.True(pooled.Span.SequenceEqual(reference), name);
        }
    }

    [Theory]
    [MemberData(nameof(Inflaters))]
    public void Zip64Records_AreFollowed(bool libdeflate)
    {
        var random = new Random(5);
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("ISIC ", 20_000)));
        var entries = new[] { ("ISIC_0000000.jpg", Noise(random, 1000)), ("ISIC_0000001.jpg", text), ("x/ISIC_0000002.jpg", Array.Empty<byte>()) };
        var path = Path.Combine(_root, "zip64.zip");
        File.WriteAllBytes(path, HandZip64(entries, out var offsets));
        // ZipArchive is the reference: it must read the hand-made file too, or the test proves nothing.
        using (var reference = ZipFile.OpenRead(path))
        {
            Assert.Equal(entries.Select(e => e.Item1), reference.Entries.Select(e => e.FullName));
        }
        using (var handle = File.OpenHandle(path))
        {
            var records = ZipDirectory.TryRead(handle);
            Assert.NotNull(records);
            Assert.Equal(offsets, records.Select(r => r.LocalHeaderOffset));
            Assert.Equal(entries.Select(e => (long)e.Item2.Length), records.Select(r => r.Size));
            Assert.Equal([0, 8, 0], records.Select(r => (int)r.Method));
            Assert.True(records[1].CompressedSize < records[1].Size / 10);
        }
        using var archive = new ZipImageArchive(path, libdeflate);
        Assert.Equal(entries.Length, archive.DirectEntries);
        foreach (var (name, bytes) in entries)
        {
            using var pooled = archive.ReadPooled(name, 0, CancellationToken.None);
            Assert.True(pooled.Span.SequenceEqual(bytes), name);
        }
    }

    [Theory]
    [MemberData(nameof(Inflaters))]
    public async Task DamagedEntryData_IsNamed_NotReturned(bool libdeflate)
    {
        var random = new Random(9);
        foreach (var level in new[] { CompressionLevel.NoCompression, CompressionLevel.Fastest })
        {
            var bytes = Noise(random, 50_000);
            var path = SingleEntryZip($"damaged-{level}.zip", "img/ISIC_0000001.jpg", bytes, level);
            var (local, _) = Headers(path);
            var file = File.ReadAllBytes(path);
            var data = local + 30 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(local + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(local + 28));
            // A stored byte flipped (only the CRC-32 can tell), or a deflated one (the stream breaks, or the CRC-32 tells).
            file[data + 25_000] ^= 0x10;
            File.WriteAllBytes(path, file);
            using var archive = new ZipImageArchive(path, libdeflate);
            Assert.Equal(1, archive.DirectEntries);
            var e = Assert.Throws<ZetaPrepException>(() => archive.ReadPooled("img/ISIC_0000001.jpg", bytes.Length, CancellationToken.None));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("entry img/ISIC_0000001.jpg ", e.Message, StringComparison.Ordinal);
            Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
            Assert.Contains(level == CompressionLevel.NoCompression ? "CRC-32" : "download", e.Message, StringComparison.Ordinal);
            // ZipArchive's path (label CSVs, entries left to it) checks the CRC-32 too, which ZipArchive itself does not.
            var viaZipArchive = await Assert.ThrowsAsync<ZetaPrepException>(() => archive.ReadAsync("img/ISIC_0000001.jpg", CancellationToken.None));
            Assert.Contains("entry img/ISIC_0000001.jpg ", viaZipArchive.Message, StringComparison.Ordinal);
            if (level == CompressionLevel.NoCompression)
            {
                Assert.Equal(e.Message, viaZipArchive.Message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Inflaters))]
    public void DeflatedEntry_LongerOrShorterThanDeclared_IsRefused(bool libdeflate)
    {
        var bytes = Noise(new Random(2), 20_000);
        foreach (var declared in new[] { 19_999, 20_001 })
        {
            var path = SingleEntryZip($"size-{declared}.zip", "ISIC_0000003.jpg", bytes, CompressionLevel.Optimal);
            var (local, central) = Headers(path);
            var file = File.ReadAllBytes(path);
            // Both headers declare the wrong size (and the CRC-32 of that many bytes, as a consistent liar would).
            var crc = Crc32.HashToUInt32(bytes.AsSpan(0, Math.Min(declared, bytes.Length)));
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(local + 22), (uint)declared);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(central + 24), (uint)declared);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(local + 14), crc);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(central + 16), crc);
            File.WriteAllBytes(path, file);
            using var archive = new ZipImageArchive(path, libdeflate);
            Assert.Equal(1, archive.DirectEntries);
            var e = Assert.Throws<ZetaPrepException>(() => archive.ReadPooled("ISIC_0000003.jpg", declared, CancellationToken.None));
            Assert.Contains("entry ISIC_0000003.jpg", e.Message, StringComparison.Ordinal);
            Assert.Contains(declared < bytes.Length ? "holds more data than its header declares" : "is corrupt or truncated", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DamagedLocalHeader_IsLeftToZipArchive_WithItsMessage()
    {
        var bytes = Noise(new Random(4), 1000);
        var path = SingleEntryZip("local.zip", "ISIC_0000004.jpg", bytes, CompressionLevel.Optimal);
        var (local, _) = Headers(path);
        var file = File.ReadAllBytes(path);
        file[local] ^= 0xFF; // The local header's signature.
        File.WriteAllBytes(path, file);
        using var archive = new ZipImageArchive(path);
        Assert.Equal(1, archive.DirectEntries);
        var expected = await Assert.ThrowsAsync<ZetaPrepException>(() => archive.ReadAsync("ISIC_0000004.jpg", CancellationToken.None));
        var actual = Assert.Throws<ZetaPrepException>(() => archive.ReadPooled("ISIC_0000004.jpg", 1000, CancellationToken.None));
        Assert.Equal(expected.Message, actual.Message);
    }

    [Fact]
    public void AnEntryInACompressionDotNetCannotRead_SaysToReZip_NotToDownloadAgain()
    {
        // The method fields of a deflated entry set to 12 (BZip2), as Python's zipfile.ZIP_BZIP2 or 7-Zip write it.
        var path = SingleEntryZip("bzip2.zip", "ISIC_0000005.jpg", Noise(new Random(5), 1000), CompressionLevel.Optimal);
        var (local, central) = Headers(path);
        var file = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(local + 8), 12);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(central + 10), 12);
        File.WriteAllBytes(path, file);
        using var archive = new ZipImageArchive(path);
        Assert.Equal(0, archive.DirectEntries);
        var e = Assert.Throws<ZetaPrepException>(() => archive.ReadPooled("ISIC_0000005.jpg", 1000, CancellationToken.None));
        Assert.Contains("entry ISIC_0000005.jpg uses a compression .NET cannot read", e.Message, StringComparison.Ordinal);
        Assert.Contains("re-zip the images with deflate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateNames_AreLeftToZipArchive()
    {
        var path = Path.Combine(_root, "dup.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, b) in new[] { ("same.jpg", (byte)1), ("same.jpg", (byte)2), ("other.jpg", (byte)3) })
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write([b, b, b]);
            }
        }
        using var archive = new ZipImageArchive(path);
        Assert.Equal(1, archive.DirectEntries);
        using var reference = ZipFile.OpenRead(path);
        using var expected = new MemoryStream();
        using (var s = reference.GetEntry("same.jpg")!.Open())
        {
            s.CopyTo(expected);
        }
        using var pooled = archive.ReadPooled("same.jpg", 3, CancellationToken.None);
        Assert.Equal(expected.ToArray(), pooled.Span.ToArray());
    }

    [Fact]
    public async Task ALocationSharedWithAnEntryNotReadDirectly_IsLeftToZipArchive()
    {
        // Two entries named alike, the second marked encrypted (read only through ZipArchive, which refuses it).
        var path = Path.Combine(_root, "dup-encrypted.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var b in new byte[] { 1, 2 })
            {
                using var stream = zip.CreateEntry("same.jpg", CompressionLevel.NoCompression).Open();
                stream.Write([b, b, b]);
            }
        }
        var file = File.ReadAllBytes(path);
        var centrals = Enumerable.Range(0, file.Length - 4).Where(i => BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(i)) == 0x02014b50).ToList();
        var second = centrals[1];
        file[second + 8] |= 1;
        file[BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(second + 42)) + 6] |= 1;
        File.WriteAllBytes(path, file);

        using var archive = new ZipImageArchive(path);
        Assert.Equal(0, archive.DirectEntries);
        // Whichever entry ZipArchive picks for the name, both reads give its outcome.
        var expected = await Record.ExceptionAsync(() => archive.ReadAsync("same.jpg", CancellationToken.None));
        var actual = Record.Exception(() => archive.ReadPooled("same.jpg", 3, CancellationToken.None).Dispose());
        Assert.Equal(expected?.Message, actual?.Message);
    }

    [Fact]
    public async Task WindowsMadeZip_WithBackslashedNames_ReadsAtTheListedLocations()
    {
        var path = Path.Combine(_root, "windows.zip");
        var contents = new[] { ("ISIC-2017_Training_Data\\ISIC_0000000.jpg", Noise(new Random(6), 900)), ("ISIC-2017_Training_Data\\sub\\ISIC_0000001.jpg", Noise(new Random(7), 40_000)) };
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, bytes) in contents)
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(bytes);
            }
        }
        using var archive = new ZipImageArchive(path);
        var listed = archive.List().ToList();
        Assert.Equal(["ISIC-2017_Training_Data/ISIC_0000000.jpg", "ISIC-2017_Training_Data/sub/ISIC_0000001.jpg"], listed.Select(l => l.Location));
        Assert.Equal(2, archive.DirectEntries);
        foreach (var ((location, size), (_, bytes)) in listed.Zip(contents))
        {
            // ReadAsync goes through ZipArchive, whose GetEntry knows only the backslashed name.
            Assert.Equal(bytes, await archive.ReadAsync(location, CancellationToken.None));
            using var pooled = archive.ReadPooled(location, size, CancellationToken.None);
            Assert.True(pooled.Span.SequenceEqual(bytes), location);
        }
    }

    [Fact]
    public void MutatedZips_ReadTheOriginalBytesOrFailWithOneNamedError_NeverAWrongRead()
    {
        var random = new Random(12);
        var contents = new (string Name, byte[] Bytes)[]
        {
            ("img/ISIC_0000000.jpg", Noise(random, 3000)),
            ("img/ISIC_0000001.jpg", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("ISIC ", 2000)))),
            ("img/ISIC_0000002.jpg", []),
        };
        var mixed = Path.Combine(_root, "pristine.zip");
        using (var zip = ZipFile.Open(mixed, ZipArchiveMode.Create))
        {
            foreach (var (name, bytes) in contents)
            {
                using var stream = zip.CreateEntry(name, name.EndsWith("0.jpg", StringComparison.Ordinal) ? CompressionLevel.NoCompression : CompressionLevel.Optimal).Open();
                stream.Write(bytes);
            }
        }
        var originals = new[] { File.ReadAllBytes(mixed), HandZip64(contents, out _) };
        var path = Path.Combine(_root, "mutated.zip");
        var outcomes = new int[2];
        for (var i = 0; i < 400; i++)
        {
            var original = originals[i % 2];
            var bytes = (byte[])original.Clone();
            if (i % 7 == 0)
            {
                bytes = bytes[..random.Next(bytes.Length)];
            }
            else
            {
                // Mostly in the headers and directory (the last ~400 bytes and the first local header), where the reader looks.
                for (var k = 1 + random.Next(4); k > 0; k--)
                {
                    var at = random.Next(3) switch { 0 => random.Next(bytes.Length), 1 => random.Next(60), _ => bytes.Length - 1 - random.Next(Math.Min(400, bytes.Length)) };
                    bytes[at] ^= (byte)(1 << random.Next(8));
                }
            }
            File.WriteAllBytes(path, bytes);
            using (var handle = File.OpenHandle(path))
            {
                // Never throws; whatever it gives lies inside the file.
                foreach (var r in ZipDirectory.TryRead(handle) ?? [])
                {
                    Assert.True(r.Size >= 0 && r.CompressedSize >= 0 && r.LocalHeaderOffset >= 0 && r.LocalHeaderOffset <= bytes.Length - r.CompressedSize);
                }
            }
            using var archive = new ZipImageArchive(path);
            foreach (var (name, expected) in contents)
            {
                try
                {
                    using var pooled = archive.ReadPooled(name, expected.Length, CancellationToken.None);
                    Assert.True(pooled.Span.SequenceEqual(expected), $"mutation {i}: {name} read wrong bytes");
                    outcomes[0]++;
                }
                catch (ZetaPrepException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                    outcomes[1]++;
                }
            }
        }
        Assert.True(outcomes[0] > 0 && outcomes[1] > 0, $"reads {outcomes[0]}, errors {outcomes[1]}: the mutations test nothing");
    }

    [Fact]
    public void NotAZip_HasNoDirectory()
    {
        var path = Path.Combine(_root, "not.zip");
        foreach (var content in new[] { Array.Empty<byte>(), new byte[21], Noise(new Random(1), 100_000) })
        {
            File.WriteAllBytes(path, content);
            using var handle = File.OpenHandle(path);
            Assert.Null(ZipDirectory.TryRead(handle));
        }
    }

    private static byte[] Noise(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private string SingleEntryZip(string fileName, string entryName, byte[] bytes, CompressionLevel level)
    {
        var path = Path.Combine(_root, fileName);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var stream = zip.CreateEntry(entryName, level).Open();
        stream.Write(bytes);
        return path;
    }

    /// <summary>Offsets of the first local header and the first central directory record of a one-entry zip.</summary>
    private static (int Local, int Central) Headers(string path)
    {
        var file = File.ReadAllBytes(path);
        var central = file.AsSpan().LastIndexOf("PK\u0001\u0002"u8);
        Assert.True(central > 0);
        return ((int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(central + 42)), central);
    }

    /// <summary>
    /// A zip whose every central record puts its sizes and offset in a ZIP64 extra field, ended by ZIP64 records;
    /// entries of over 10,000 bytes are deflated (so the two sizes differ), the others stored.
    /// </summary>
    private static byte[] HandZip64((string Name, byte[] Bytes)[] entries, out long[] offsets)
    {
        using var output = new MemoryStream();
        using var w = new BinaryWriter(output);
        offsets = new long[entries.Length];
        var stored = new byte[entries.Length][];
        for (var i = 0; i < entries.Length; i++)
        {
            var (name, bytes) = entries[i];
            stored[i] = bytes.Length > 10_000 ? Deflate(bytes) : bytes;
            offsets[i] = output.Position;
            var nameBytes = Encoding.UTF8.GetBytes(name);
            w.Write(0x04034b50u);
            w.Write((ushort)45);
            w.Write((ushort)0x0800); // UTF-8 names.
            w.Write((ushort)(stored[i] == bytes ? 0 : 8));
            w.Write((ushort)0);
            w.Write((ushort)0x21);
            w.Write(Crc32.HashToUInt32(bytes));
            w.Write(uint.MaxValue); // Sizes in the ZIP64 extra field.
            w.Write(uint.MaxValue);
            w.Write((ushort)nameBytes.Length);
            w.Write((ushort)20);
            w.Write(nameBytes);
            w.Write((ushort)1);
            w.Write((ushort)16);
            w.Write((long)bytes.Length);
            w.Write((long)stored[i].Length);
            w.Write(stored[i]);
        }
        var directory = output.Position;
        for (var i = 0; i < entries.Length; i++)
        {
            var (name, bytes) = entries[i];
            var nameBytes = Encoding.UTF8.GetBytes(name);
            w.Write(0x02014b50u);
            w.Write((ushort)45);
            w.Write((ushort)45);
            w.Write((ushort)0x0800);
            w.Write((ushort)(stored[i] == bytes ? 0 : 8));
            w.Write((ushort)0);
            w.Write((ushort)0x21);
            w.Write(Crc32.HashToUInt32(bytes));
            w.Write(uint.MaxValue);
            w.Write(uint.MaxValue);
            w.Write((ushort)nameBytes.Length);
            w.Write((ushort)28);
            w.Write((ushort)0); // Comment.
            w.Write((ushort)0); // Disk.
            w.Write((ushort)0);
            w.Write(0u);
            w.Write(uint.MaxValue); // Offset in the ZIP64 extra field.
            w.Write(nameBytes);
            w.Write((ushort)1);
            w.Write((ushort)24);
            w.Write((long)bytes.Length); // Uncompressed, then compressed, then the offset: APPNOTE 4.5.3's order.
            w.Write((long)stored[i].Length);
            w.Write(offsets[i]);
        }
        var directorySize = output.Position - directory;
        var zip64End = output.Position;
        w.Write(0x06064b50u);
        w.Write(44L);
        w.Write((ushort)45);
        w.Write((ushort)45);
        w.Write(0u);
        w.Write(0u);
        w.Write((long)entries.Length);
        w.Write((long)entries.Length);
        w.Write(directorySize);
        w.Write(directory);
        w.Write(0x07064b50u);
        w.Write(0u);
        w.Write(zip64End);
        w.Write(1u);
        w.Write(0x06054b50u);
        w.Write((ushort)0);
        w.Write((ushort)0);
        w.Write(ushort.MaxValue);
        w.Write(ushort.MaxValue);
        w.Write(uint.MaxValue);
        w.Write(uint.MaxValue);
        w.Write((ushort)0);
        w.Flush();
        return output.ToArray();
    }

    private static byte[] Deflate(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal))
        {
            deflate.Write(bytes);
        }
        return output.ToArray();
    }
}
