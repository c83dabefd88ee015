using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace ZetaPrep.Sources;

/// <summary>A zip read in place, never extracted: a pool of <see cref="ZipArchive"/> instances (one per concurrent reader,
/// since ZipArchive is not thread-safe) gives parallel random access to entries.</summary>
/// <remarks>
/// <see cref="ReadPooled"/> (every image read of a run) reads a stored or deflated entry with one positioned read of its
/// bytes where <see cref="ZipDirectory"/> places them, inflates them in one call (libdeflate when it loads, else
/// zlib-ng through DeflateStream) and checks the entry's CRC-32: ~1.1 ms with libdeflate for a 1.1 MB deflated JPEG
/// against ~1.55 ms through ZipArchiveEntry.Open, whose stream pulls 8 KB at a time through a FileStream (with
/// DeflateStream about the same as that, the CRC-32 check included). ZipArchive stays the
/// authority: it lists the entries, and an entry whose directory record it does not read the same way, or whose local
/// header looks wrong, is read through it, with its checks and messages.
/// </remarks>
internal sealed class ZipImageArchive : IImageContainer
{
    /// <summary>Entries claiming more than this uncompressed are refused (zip bomb); real dermoscopy images are far below it.</summary>
    public const long MaxEntryBytes = 512L * 1024 * 1024;

    private const int LocalHeaderSize = 30;
    private const uint LocalHeaderSignature = 0x04034b50;

    private readonly ConcurrentBag<ZipArchive> _pool = [];
    private readonly bool _useLibdeflate;
    private readonly Lazy<DirectReads?> _direct;

    /// <param name="path">The zip file.</param>
    /// <param name="useLibdeflate">Inflate with libdeflate when it loads (false: always DeflateStream; for tests).</param>
    public ZipImageArchive(string path, bool useLibdeflate = true)
    {
        Path = System.IO.Path.GetFullPath(path);
        _useLibdeflate = useLibdeflate && Libdeflate.IsAvailable;
        _direct = new Lazy<DirectReads?>(OpenDirect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Path { get; }

    /// <summary>How many entries <see cref="ReadPooled"/> reads directly (the rest go through ZipArchive); for tests.</summary>
    internal int DirectEntries => _direct.Value?.Entries.Count ?? 0;

    /// <summary>Whether deflated entries inflate with libdeflate; for tests.</summary>
    internal bool InflatesWithLibdeflate => _useLibdeflate;

    public IEnumerable<(string Location, long Size)> List()
    {
        var archive = Rent();
        try
        {
            return archive.Entries
                .Where(e => e.FullName.Length > 0 && !e.FullName.EndsWith('/') && !e.FullName.EndsWith('\\'))
                .Select(e => (e.FullName.Replace('\\', '/'), e.Length))
                .ToList();
        }
        finally
        {
            _pool.Add(archive);
        }
    }

    /// <summary>Finds a CSV entry by its path (case-insensitive, any root folder) and reads it whole.</summary>
    public byte[]? ReadNamed(string entryPath)
    {
        var wanted = entryPath.Replace('\\', '/');
        var archive = Rent();
        try
        {
            var entries = archive.Entries.Where(e => !e.FullName.StartsWith("__MACOSX/", StringComparison.Ordinal)).ToList();
            var entry = entries.FirstOrDefault(e => string.Equals(e.FullName.Replace('\\', '/'), wanted, StringComparison.OrdinalIgnoreCase))
                ?? entries.FirstOrDefault(e => string.Equals(System.IO.Path.GetFileName(e.FullName.Replace('\\', '/')), System.IO.Path.GetFileName(wanted), StringComparison.OrdinalIgnoreCase));
            return entry is null ? null : ReadEntry(entry);
        }
        finally
        {
            _pool.Add(archive);
        }
    }

    public Task<byte[]> ReadAsync(string location, CancellationToken cancellationToken) =>
        Task.FromResult(Read(location, ReadEntry, cancellationToken));

    public PooledBytes ReadPooled(string location, long expectedLength, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_direct.Value is { } direct && direct.Entries.TryGetValue(location, out var entry) && ReadDirect(direct.File, location, entry) is { } read)
        {
            return read;
        }
        return Read(location, ReadEntryPooled, cancellationToken);
    }

    public void Dispose()
    {
        while (_pool.TryTake(out var archive))
        {
            archive.Dispose();
        }
        if (_direct.IsValueCreated)
        {
            _direct.Value?.File.Dispose();
        }
    }

    /// <summary>The entries ZipArchive and <see cref="ZipDirectory"/> read alike (stored or deflated, not encrypted, one per location).</summary>
    private DirectReads? OpenDirect()
    {
        SafeFileHandle? file = null;
        try
        {
            file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var records = ZipDirectory.TryRead(file);
            var archive = Rent();
            Dictionary<string, ZipDirectory.Record>? entries;
            try
            {
                entries = records is null ? null : DirectlyReadable(records, archive.Entries);
            }
            finally
            {
                _pool.Add(archive);
            }
            if (entries is null)
            {
                file.Dispose();
                return null;
            }
            return new DirectReads(file, entries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ZetaPrepException)
        {
            // Rent and ReadPooled's ZipArchive path name the problem.
            file?.Dispose();
            return null;
        }
    }

    /// <summary>
    /// By the location List gives, the records of the entries to read directly; null when the two directories disagree
    /// on any entry. A location that several entries share is left out: ZipArchive.GetEntry picks one, so it reads it.
    /// </summary>
    private static Dictionary<string, ZipDirectory.Record>? DirectlyReadable(ZipDirectory.Record[] records, System.Collections.ObjectModel.ReadOnlyCollection<ZipArchiveEntry> listed)
    {
        if (records.Length != listed.Count)
        {
            return null;
        }
        var entries = new Dictionary<string, ZipDirectory.Record>(listed.Count, StringComparer.Ordinal);
        var seen = new HashSet<string>(listed.Count, StringComparer.Ordinal);
        var shared = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < records.Length; i++)
        {
            var (r, e) = (records[i], listed[i]);
            if (r.CompressedSize != e.CompressedLength || r.Size != e.Length || r.Crc32 != e.Crc32)
            {
                return null;
            }
            // Windows-made zips separate folders with '\'.
            var location = e.FullName.Replace('\\', '/');
            if (!seen.Add(location))
            {
                shared.Add(location);
            }
            if ((r.Flags & 1) == 0 && (r.Method == 8 || (r.Method == 0 && r.CompressedSize == r.Size)))
            {
                entries[location] = r;
            }
        }
        foreach (var location in shared)
        {
            entries.Remove(location);
        }
        return entries;
    }

    /// <summary>An entry's bytes read where its local header places them; null when that header does not fit (ZipArchive then reads it).</summary>
    private PooledBytes? ReadDirect(SafeFileHandle file, string location, ZipDirectory.Record entry)
    {
        var length = CheckedLength(location, entry.Size, encrypted: false);
        Span<byte> header = stackalloc byte[LocalHeaderSize];
        if (!ZipDirectory.ReadAll(file, header, entry.LocalHeaderOffset)
            || BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalHeaderSignature
            || BinaryPrimitives.ReadUInt16LittleEndian(header[8..]) != entry.Method)
        {
            return null;
        }
        var dataOffset = entry.LocalHeaderOffset + LocalHeaderSize
            + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (dataOffset > RandomAccess.GetLength(file) - entry.CompressedSize)
        {
            return null;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var into = buffer.AsSpan(0, length);
            if (entry.Method == 0)
            {
                if (!ZipDirectory.ReadAll(file, into, dataOffset))
                {
                    throw Truncated(location, "the zip ends inside it");
                }
            }
            else
            {
                InflateDirect(file, location, entry, dataOffset, into);
            }
            CheckCrc(location, into, entry.Crc32);
            return PooledBytes.Own(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private void InflateDirect(SafeFileHandle file, string location, ZipDirectory.Record entry, long dataOffset, Span<byte> into)
    {
        if (entry.CompressedSize > Array.MaxLength)
        {
            throw Truncated(location, "its compressed size is over what one read can hold");
        }
        var compressedLength = (int)entry.CompressedSize;
        var compressed = ArrayPool<byte>.Shared.Rent(compressedLength);
        try
        {
            if (!ZipDirectory.ReadAll(file, compressed.AsSpan(0, compressedLength), dataOffset))
            {
                throw Truncated(location, "the zip ends inside it");
            }
            if (_useLibdeflate)
            {
                switch (Libdeflate.Inflate(compressed.AsSpan(0, compressedLength), into))
                {
                    case Libdeflate.Result.Success:
                        return;
                    case Libdeflate.Result.ShortOutput:
                        throw Truncated(location, $"its data inflates to fewer than the {into.Length:N0} bytes its header declares");
                    case Libdeflate.Result.InsufficientSpace:
                        throw MoreThanDeclared(location);
                    default:
                        throw Truncated(location, "its deflate data is invalid");
                }
            }
            using var memory = new MemoryStream(compressed, 0, compressedLength, writable: false);
            using var stream = new DeflateStream(memory, CompressionMode.Decompress);
            ReadExactlyAndEnd(stream, into, location);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    private ZetaPrepException Truncated(string location, string why) =>
        new($"{Path}: entry {location} is corrupt or truncated ({why}); download the zip again.");

    private ZetaPrepException MoreThanDeclared(string location) =>
        new($"{Path}: entry {location} holds more data than its header declares; the zip is corrupt — download it again.");

    private sealed record DirectReads(SafeFileHandle File, Dictionary<string, ZipDirectory.Record> Entries);

    private T Read<T>(string location, Func<ZipArchiveEntry, T> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var archive = Rent();
        try
        {
            // List gives '/'-separated locations; a Windows-made zip names its entries with '\'.
            var entry = archive.GetEntry(location)
                ?? archive.Entries.FirstOrDefault(e => e.FullName.Replace('\\', '/') == location)
                ?? throw new ZetaPrepException($"{Path}: entry {location} has gone; the zip changed while reading — rerun.");
            return read(entry);
        }
        catch (InvalidDataException e)
        {
            throw new ZetaPrepException($"{Path}: entry {location} is corrupt ({e.Message}); download the zip again.", e);
        }
        finally
        {
            _pool.Add(archive);
        }
    }

    private byte[] ReadEntry(ZipArchiveEntry entry)
    {
        var bytes = new byte[CheckedLength(entry)];
        Inflate(entry, bytes);
        return bytes;
    }

    private PooledBytes ReadEntryPooled(ZipArchiveEntry entry)
    {
        var length = CheckedLength(entry);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Inflate(entry, buffer.AsSpan(0, length));
            return PooledBytes.Own(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private int CheckedLength(ZipArchiveEntry entry) => CheckedLength(entry.FullName, entry.Length, entry.IsEncrypted);

    private int CheckedLength(string name, long length, bool encrypted)
    {
        if (encrypted)
        {
            throw new ZetaPrepException($"{Path}: entry {name} is encrypted; ZetaPrep reads unencrypted zips only — re-download the official file.");
        }
        if (length > MaxEntryBytes)
        {
            throw new ZetaPrepException($"{Path}: entry {name} claims {length:N0} bytes uncompressed, over the {MaxEntryBytes:N0}-byte limit (zip bomb guard); remove it from the zip.");
        }
        return (int)length;
    }

    private void Inflate(ZipArchiveEntry entry, Span<byte> into)
    {
        Stream stream;
        try
        {
            stream = entry.Open();
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw Corrupt(entry.FullName, e);
        }
        using (stream)
        {
            ReadExactlyAndEnd(stream, into, entry.FullName);
        }
        // ZipArchive does not check it.
        CheckCrc(entry.FullName, into, entry.Crc32);
    }

    private void CheckCrc(string name, ReadOnlySpan<byte> bytes, uint expected)
    {
        if (Crc32.HashToUInt32(bytes) != expected)
        {
            throw new ZetaPrepException($"{Path}: entry {name} is corrupt (its bytes do not match the CRC-32 in the zip's directory); download the zip again.");
        }
    }

    /// <summary>Fills <paramref name="into"/> from an entry's stream, which must end there.</summary>
    private void ReadExactlyAndEnd(Stream stream, Span<byte> into, string name)
    {
        try
        {
            stream.ReadExactly(into);
            // The header's size is what we bounded; data beyond it means the entry lies about its size.
            if (stream.ReadByte() >= 0)
            {
                throw MoreThanDeclared(name);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            // Found by the zip fuzz test: a damaged entry ends early or fails to inflate.
            throw Corrupt(name, e);
        }
    }

    private ZetaPrepException Corrupt(string name, Exception e) =>
        e is InvalidDataException && e.Message.Contains("is not supported", StringComparison.Ordinal)
            // BZip2, LZMA, Deflate64…: a valid entry .NET cannot inflate, so downloading it again would not help.
            ? new($"{Path}: entry {name} uses a compression .NET cannot read ({e.Message.TrimEnd('.')}); re-zip the images with deflate (e.g. zip -r NEW.zip FOLDER) or store them.", e)
            : new($"{Path}: entry {name} is corrupt or truncated ({e.Message.TrimEnd('.')}); download the zip again.", e);

    private ZipArchive Rent()
    {
        if (_pool.TryTake(out var archive))
        {
            return archive;
        }
        FileStream? file = null;
        try
        {
            file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            var opened = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
            try
            {
                // The central directory is read lazily; read it here so a damaged one fails with this message.
                _ = opened.Entries.Count;
            }
            catch
            {
                opened.Dispose();
                throw;
            }
            return opened;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            throw DirectoryWalk.BrokenLink(Path) is { } link
                ? new ZetaPrepException($"{Path}: {link}; fix the link, or mount or restore what it points to.", e)
                : new ZetaPrepException($"{Path}: cannot read as a zip ({e.Message}); download it again.", e);
        }
    }
}
