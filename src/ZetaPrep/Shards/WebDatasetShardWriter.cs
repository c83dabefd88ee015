using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace ZetaPrep.Shards;

/// <summary>Writes one WebDataset tar (plain ustar, FACTS.md §4): per row <c>KEY.png</c>, <c>KEY.json</c>, <c>KEY.cls</c>, adjacent; temp name → fsync → rename on <see cref="CompleteAsync"/>.</summary>
public sealed class WebDatasetShardWriter : IShardWriter
{
    private readonly string _finalPath;
    private readonly string _tempPath;
    private readonly int _classCount;
    private readonly FileStream _file;
    private readonly HashingWriteStream _hashing;
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly byte[] _block = new byte[UstarHeader.BlockSize];
    private readonly ArrayBufferWriter<byte> _jsonBuffer = new(1024);
    private readonly Utf8JsonWriter _json;
    private long _rows;
    private bool _faulted;
    private bool _done;

    private WebDatasetShardWriter(string finalPath, string tempPath, int classCount, FileStream file)
    {
        _finalPath = finalPath;
        _tempPath = tempPath;
        _classCount = classCount;
        _file = file;
        _hashing = new HashingWriteStream(file);
        _json = new Utf8JsonWriter(_jsonBuffer);
    }

    /// <summary>Starts a tar in a hidden temporary file beside <paramref name="finalPath"/> (its directory is created if missing).</summary>
    public static Task<WebDatasetShardWriter> CreateAsync(string finalPath, ShardSchema schema, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(finalPath);
        ArgumentNullException.ThrowIfNull(schema);
        ct.ThrowIfCancellationRequested();
        var fullPath = Path.GetFullPath(finalPath);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var tempPath = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        return Task.FromResult(new WebDatasetShardWriter(fullPath, tempPath, schema.ClassNames.Count, file));
    }

    public async Task WriteRowGroupAsync(IReadOnlyList<ShardRow> rows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rows);
        EnsureOpen();
        var keys = new string[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(rows[i]);
            if (rows[i].Label.Length != _classCount)
            {
                throw new ArgumentException($"Row {i} has a label of length {rows[i].Label.Length}; the shard has {_classCount} classes.", nameof(rows));
            }
            keys[i] = WebDatasetSample.KeyOf(rows[i]);
            if (!_keys.Add(keys[i]))
            {
                throw new ArgumentException($"Row {i}: key '{keys[i]}' occurs twice in one shard; WebDataset keys must be unique.", nameof(rows));
            }
        }

        _faulted = true; // a failure below leaves a partial member: only disposal is left
        for (var i = 0; i < rows.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            await WriteMemberAsync(keys[i] + ".png", rows[i].ImageBytes, ct).ConfigureAwait(false);
            _jsonBuffer.ResetWrittenCount();
            _json.Reset(_jsonBuffer);
            WebDatasetSample.WriteJson(_json, rows[i]);
            _json.Flush();
            await WriteMemberAsync(keys[i] + ".json", _jsonBuffer.WrittenMemory, ct).ConfigureAwait(false);
            await WriteMemberAsync(keys[i] + ".cls", WebDatasetSample.Cls(rows[i]), ct).ConfigureAwait(false);
        }
        _rows += rows.Count;
        _faulted = false;
    }

    public async Task<ShardFileInfo> CompleteAsync(CancellationToken ct)
    {
        EnsureOpen();
        ct.ThrowIfCancellationRequested();
        _faulted = true;
        Array.Clear(_block);
        await _hashing.WriteAsync(_block, ct).ConfigureAwait(false); // end of archive: two zero blocks
        await _hashing.WriteAsync(_block, ct).ConfigureAwait(false);
        await _hashing.FlushAsync(ct).ConfigureAwait(false);
        _hashing.FlushToDisk();
        var bytes = _hashing.BytesWritten;
        var sha256 = _hashing.Sha256Hex();
        await _json.DisposeAsync().ConfigureAwait(false);
        await _hashing.DisposeAsync().ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
        File.Move(_tempPath, _finalPath, overwrite: true);
        _done = true;
        DirectorySync.TryFlush(Path.GetDirectoryName(_finalPath)!);
        return new ShardFileInfo(_finalPath, _rows, bytes, sha256);
    }

    /// <inheritdoc/>
    public void StartDataSync()
    {
        if (!_faulted && !_done)
        {
            _ = _hashing.StartDataSync();
        }
    }

    /// <summary>Releases the file; without a successful <see cref="CompleteAsync"/> the temporary file is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_done)
        {
            return;
        }
        _done = true;
        // Closing flushes buffered bytes, which fails again on a full disk: the temp file is deleted regardless (as the
        // Parquet writer does), and the error that caused the abort is the one the caller sees.
        try
        {
            await _json.DisposeAsync().ConfigureAwait(false);
            await _hashing.DisposeAsync().ConfigureAwait(false);
            await _file.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        finally
        {
            File.Delete(_tempPath);
        }
    }

    private async Task WriteMemberAsync(string name, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        UstarHeader.Write(_block, name, data.Length);
        await _hashing.WriteAsync(_block, ct).ConfigureAwait(false);
        await _hashing.WriteAsync(data, ct).ConfigureAwait(false);
        var pad = UstarHeader.Padding(data.Length);
        if (pad > 0)
        {
            Array.Clear(_block);
            await _hashing.WriteAsync(_block.AsMemory(0, pad), ct).ConfigureAwait(false);
        }
    }

    private void EnsureOpen()
    {
        if (_done)
        {
            throw new InvalidOperationException($"Shard writer for '{_finalPath}' is already completed or disposed.");
        }
        if (_faulted)
        {
            throw new InvalidOperationException($"Shard writer for '{_finalPath}' failed earlier; dispose it to delete the partial file.");
        }
    }
}
