using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZetaPrep.Sources;

/// <summary>An item's encoded bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>, returned on <see cref="Dispose"/>.</summary>
/// <remarks>Reading a file into a pooled buffer saves a fresh large-object-heap array per input (≈137 KB per photo),
/// which was most of a read's cost and drove gen2 collections. Use the bytes only before disposing; disposing twice is safe.</remarks>
public sealed partial class PooledBytes : IDisposable
{
    private readonly int _length;
    private readonly bool _pooled;
    private byte[]? _buffer;

    private PooledBytes(byte[] buffer, int length, bool pooled)
    {
        _buffer = buffer;
        _length = length;
        _pooled = pooled;
    }

    /// <summary>The number of bytes.</summary>
    public int Length => _length;

    /// <summary>The bytes; valid until disposed.</summary>
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, _length);

    /// <summary>The bytes; valid until disposed.</summary>
    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, _length);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PooledBytes));

    /// <summary>Wraps an array that is not pooled (a source without a pooled read path); Dispose only forgets it.</summary>
    public static PooledBytes Wrap(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return new PooledBytes(bytes, bytes.Length, pooled: false);
    }

    /// <summary>Takes ownership of a rented <paramref name="buffer"/> holding <paramref name="length"/> bytes.</summary>
    internal static PooledBytes Own(byte[] buffer, int length) => new(buffer, length, pooled: true);

    /// <summary>
    /// Reads a whole file into a rented buffer on the calling thread (a page-cached file is a fast syscall; an async read
    /// only adds a thread-pool hop). Reads until end of file, so a file that grows or shrinks while read comes back whole
    /// as it is now, never cut at the size seen when opened or the <paramref name="expectedLength"/> given (the listing's
    /// size: only the first buffer's size; one over <see cref="Array.MaxLength"/> reads through .NET's handle, which
    /// names the limit). A device or socket is refused as not an image file, and so is a FIFO that nothing writes to
    /// (its open had blocked the run, with no word, until something did). Throws what <see cref="File.ReadAllBytes(string)"/> throws
    /// (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>), with its messages.
    /// </summary>
    internal static PooledBytes ReadFile(string path, long expectedLength = 0)
    {
        if (OperatingSystem.IsLinux() && expectedLength >= 0 && expectedLength < Array.MaxLength && TryReadWithLibc(path, expectedLength) is { } read)
        {
            return read;
        }
        return ReadWithHandle(path);
    }

    /// <summary>
    /// open, read until a zero-byte read, close: 4 syscalls, where <see cref="File.OpenHandle"/> and
    /// <see cref="RandomAccess"/> make 8 (two fstat, and the advisory flock .NET takes and drops on every
    /// <see cref="FileShare.Read"/> handle). A read of a 28×28 PNG cost ~10 µs here, as much as decoding it. Opened
    /// non-blocking, which a regular file ignores and a FIFO's open needs so as not to wait for a writer; a FIFO is then
    /// read as a stream (blocking again), to its end: no bytes when nothing writes to it. null when open fails, or the
    /// first read does (a folder): the .NET path then throws its usual exception.
    /// </summary>
    private static unsafe PooledBytes? TryReadWithLibc(string path, long expectedLength)
    {
        var fd = Open(path, ReadFlags);
        if (fd < 0)
        {
            return null;
        }
        var kind = FileIdentity.DeviceKind(fd);
        if (kind is not null && (kind != FileIdentity.Fifo || Fcntl(fd, SetStatusFlags, ReadFlags & ~NonBlocking) < 0))
        {
            _ = Close(fd);
            throw NotAFile(kind);
        }
        // One spare byte, so a file of the expected size ends with a zero-byte read; a size of 0 (not known) starts at 4 KiB.
        byte[]? buffer = ArrayPool<byte>.Shared.Rent(expectedLength == 0 ? 4096 : (int)expectedLength + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    buffer = Grow(buffer, length);
                }
                nint read;
                fixed (byte* at = buffer.AsSpan(length))
                {
                    read = Read(fd, at, buffer.Length - length);
                }
                if (read < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Interrupted)
                    {
                        continue;
                    }
                    if (length == 0)
                    {
                        return null;
                    }
                    throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
                if (read == 0)
                {
                    if (length == 0 && kind is not null)
                    {
                        throw NotAFile(kind + " that nothing writes to");
                    }
                    var whole = Own(buffer, length);
                    buffer = null;
                    return whole;
                }
                length += (int)read;
            }
        }
        finally
        {
            _ = Close(fd);
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>A device or socket where an image file was listed (a link to /dev/zero read 2 GiB before failing).</summary>
    private static NotAFileException NotAFile(string kind) => new($"it is {kind}, not an image file");

    /// <summary>A buffer twice as large (up to <see cref="Array.MaxLength"/>) holding the first <paramref name="length"/> bytes; the old one goes back to the pool (when this throws, the caller still owns it).</summary>
    private static byte[] Grow(byte[] buffer, int length)
    {
        if (buffer.Length == Array.MaxLength)
        {
            throw new IOException($"the file grew past the {Array.MaxLength:N0}-byte limit of one read");
        }
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, Array.MaxLength));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private static PooledBytes ReadWithHandle(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (FileIdentity.DeviceKind((int)handle.DangerousGetHandle()) is { } kind)
        {
            throw NotAFile(kind);
        }
        // A pipe or FIFO has no length and no positions (RandomAccess refuses it): read it as a stream to its end, as
        // File.ReadAllBytes does.
        var seekableLength = SeekableLength(handle);
        var pipe = seekableLength is null ? new FileStream(handle, FileAccess.Read, bufferSize: 0) : null;
        using (pipe)
        {
            var expected = seekableLength ?? 0;
            if (expected > Array.MaxLength)
            {
                throw new IOException($"the file is {expected:N0} bytes, over the {Array.MaxLength:N0}-byte limit of one read");
            }
            // One spare byte so a file of the expected size ends with a zero-byte read instead of a buffer that looks full.
            // Files that report no length (procfs, FIFOs) are read in growing chunks.
            var buffer = ArrayPool<byte>.Shared.Rent(expected == 0 ? 4096 : (int)Math.Min(expected + 1, Array.MaxLength));
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        buffer = Grow(buffer, length);
                    }
                    var read = pipe is null ? RandomAccess.Read(handle, buffer.AsSpan(length), length) : pipe.Read(buffer.AsSpan(length));
                    if (read == 0)
                    {
                        return Own(buffer, length);
                    }
                    length += read;
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
    }

    private static long? SeekableLength(SafeFileHandle handle)
    {
        try
        {
            return RandomAccess.GetLength(handle);
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Returns a pooled buffer to the pool; safe to call more than once, from any thread.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        // Rent(0) hands out the shared empty array, which is not the pool's to take back.
        if (buffer is not null && _pooled && buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private const int NonBlocking = 0x800; // O_NONBLOCK (04000 on x64 and arm64 alike)

    private const int ReadFlags = 0x80000 | NonBlocking; // O_RDONLY | O_CLOEXEC (02000000) | O_NONBLOCK

    private const int SetStatusFlags = 4; // F_SETFL
    private const int Interrupted = 4; // EINTR

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static unsafe partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}

/// <summary>A listed input that is a device or socket, not a file (<see cref="PooledBytes.ReadFile"/>).</summary>
internal sealed class NotAFileException(string message) : IOException(message);
