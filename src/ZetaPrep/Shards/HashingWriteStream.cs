using System.Runtime.InteropServices;
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
    private long _syncedTo;
    private Task<int>? _dataSync;

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

    /// <summary>Bytes a file must have gained since the last <see cref="StartDataSync"/> for another to start.</summary>
    internal const long DataSyncMin = 1 << 20;

    /// <summary>
    /// Starts an fdatasync of everything written so far on a pool thread and returns at once; at most one runs at a
    /// time, and none starts for less than <see cref="DataSyncMin"/> new bytes or a stream not backed by a file. The
    /// fsync that completes a file waits on a journal commit of the blocks it allocated: ~18 ms for a 31 MB shard on
    /// the dev VM's disk whether 0.5 or 8 MiB of it was still unwritten, ~2 ms when an fdatasync had covered all but
    /// the last 2.4 MB. The generator calls this while it waits for a shard's last batch, so that wait hides the
    /// commit. Not a durability step (the closing fsync still is), and no bytes change.
    /// </summary>
    /// <returns>Whether one started.</returns>
    public bool StartDataSync()
    {
        // One at a time; a failed one is kept for WaitForDataSync to report.
        if (_inner is not FileStream file || _written - _syncedTo < DataSyncMin || _dataSync is { } running && (!running.IsCompleted || running.Result > 0))
        {
            return false;
        }
        file.Flush();
        _syncedTo = _written;
        var handle = file.SafeFileHandle;
        _dataSync = Task.Run(() => Writeback.SyncData(handle));
        return true;
    }

    /// <summary>Waits for the data sync <see cref="StartDataSync"/> left running, if any, before the closing fsync.</summary>
    /// <exception cref="IOException">It failed: the kernel could not write the file's data (reported once, here).</exception>
    public void WaitForDataSync()
    {
        var errno = _dataSync?.GetAwaiter().GetResult() ?? 0;
        _dataSync = null;
        if (errno > 0)
        {
            throw new IOException($"writing the file's data to disk failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>
    /// The closing fsync of a file-backed stream: waits for the data sync <see cref="StartDataSync"/> left running
    /// (throwing its failure, which the fsync would not see again), then flushes the file to stable storage.
    /// </summary>
    public void FlushToDisk()
    {
        WaitForDataSync();
        if (_inner is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
        else
        {
            _inner.Flush();
        }
    }

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
            // Disposal without completing aborts the file: a failure of its data sync no longer matters.
            _dataSync?.Wait();
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
