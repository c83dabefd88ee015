using System.Security.Cryptography;

namespace ZetaPrep.Shards;

/// <summary>A forward-only write stream that hashes (SHA-256) and counts every byte on its way to the inner stream.</summary>
internal sealed class HashingWriteStream : Stream
{
    /// <summary>Bytes between two <see cref="Writeback.Start"/> calls on a file-backed stream.</summary>
    internal const long WritebackEvery = 8 << 20;

    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _written;
    private long _writebackAt = WritebackEvery;

    public HashingWriteStream(Stream inner) => _inner = inner;

    public long BytesWritten => _written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _written;

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    /// <summary>The lower-case hex SHA-256 of everything written so far.</summary>
    public string Sha256Hex() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Write(buffer);
        _hash.AppendData(buffer);
        _written += buffer.Length;
        if (_written >= _writebackAt && _inner is FileStream file)
        {
            // Every 8 MiB the file's pages start going to disk, so the shard's closing fsync has little left to wait for.
            file.Flush();
            Writeback.Start(file.SafeFileHandle);
            _writebackAt = _written + WritebackEvery;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Writes inline, like <see cref="Write(ReadOnlySpan{byte})"/>. The shard files are opened for synchronous I/O, whose
    /// WriteAsync would only queue the same blocking write to another pool thread; completing here keeps a writer (and
    /// the buffers Parquet.Net rents around these calls) on the one thread that writes the shard.
    /// </summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }
        try
        {
            _inner.Flush();
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // The inner stream belongs to the caller; only the hash is ours.
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
