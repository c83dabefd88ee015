using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace ZetaPrep.Sources;

/// <summary>An item's encoded bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>, returned on <see cref="Dispose"/>.</summary>
/// <remarks>Reading a file into a pooled buffer saves a fresh large-object-heap array per input (≈137 KB per photo),
/// which was most of a read's cost and drove gen2 collections. Use the bytes only before disposing; disposing twice is safe.</remarks>
public sealed class PooledBytes : IDisposable
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
    /// Reads a whole file into a rented buffer with one handle and positional reads on the calling thread (a page-cached
    /// file is a fast syscall; an async read only adds a thread-pool hop). Reads until end of file, so a file that grows
    /// or shrinks while read comes back whole as it is now, never cut at the size seen when opened. Throws what
    /// <see cref="File.ReadAllBytes(string)"/> throws (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>).
    /// </summary>
    internal static PooledBytes ReadFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
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
                        if (buffer.Length == Array.MaxLength)
                        {
                            throw new IOException($"the file grew past the {Array.MaxLength:N0}-byte limit of one read");
                        }
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, Array.MaxLength));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
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
}
