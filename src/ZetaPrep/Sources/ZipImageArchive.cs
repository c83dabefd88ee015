using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Compression;

namespace ZetaPrep.Sources;

/// <summary>A zip read in place, never extracted: a pool of <see cref="ZipArchive"/> instances (one per concurrent reader,
/// since ZipArchive is not thread-safe) gives parallel random access to entries.</summary>
internal sealed class ZipImageArchive : IImageContainer
{
    /// <summary>Entries claiming more than this uncompressed are refused (zip bomb); real dermoscopy images are far below it.</summary>
    public const long MaxEntryBytes = 512L * 1024 * 1024;

    private readonly ConcurrentBag<ZipArchive> _pool = [];

    public ZipImageArchive(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

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

    public PooledBytes ReadPooled(string location, long expectedLength, CancellationToken cancellationToken) =>
        Read(location, ReadEntryPooled, cancellationToken);

    public void Dispose()
    {
        while (_pool.TryTake(out var archive))
        {
            archive.Dispose();
        }
    }

    private T Read<T>(string location, Func<ZipArchiveEntry, T> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var archive = Rent();
        try
        {
            var entry = archive.GetEntry(location)
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

    private int CheckedLength(ZipArchiveEntry entry)
    {
        if (entry.IsEncrypted)
        {
            throw new ZetaPrepException($"{Path}: entry {entry.FullName} is encrypted; ZetaPrep reads unencrypted zips only — re-download the official file.");
        }
        if (entry.Length > MaxEntryBytes)
        {
            throw new ZetaPrepException($"{Path}: entry {entry.FullName} claims {entry.Length:N0} bytes uncompressed, over the {MaxEntryBytes:N0}-byte limit (zip bomb guard); remove it from the zip.");
        }
        return (int)entry.Length;
    }

    private void Inflate(ZipArchiveEntry entry, Span<byte> into)
    {
        try
        {
            using var stream = entry.Open();
            stream.ReadExactly(into);
            // The header's size is what we bounded; data beyond it means the entry lies about its size.
            if (stream.ReadByte() >= 0)
            {
                throw new ZetaPrepException($"{Path}: entry {entry.FullName} holds more data than its header declares; the zip is corrupt — download it again.");
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            // Found by the zip fuzz test: a damaged entry ends early or fails to inflate.
            throw new ZetaPrepException($"{Path}: entry {entry.FullName} is corrupt or truncated ({e.Message.TrimEnd('.')}); download the zip again.", e);
        }
    }

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
            throw new ZetaPrepException($"{Path}: cannot read as a zip ({e.Message}); download it again.", e);
        }
    }
}
