using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace ZetaPrep.Shards;

/// <summary>Writes one Parquet shard that HuggingFace <c>datasets</c> loads with Image/ClassLabel features; the file appears at its final path only on <see cref="CompleteAsync"/>.</summary>
public sealed class ParquetShardWriter : IShardWriter
{
    /// <summary>Row groups are split so their image bytes stay under this (datasets caps groups at ~100 MB).</summary>
    public const long MaxRowGroupBytes = 100L * 1024 * 1024;

    // PNG bytes are already deflated: Snappy saved 0.06% on 1000 × 60 KB (61.55 vs 61.58 MB) for an extra pass over every byte.
    // Parquet.Net's RecyclableMemoryStream pool keeps every freed buffer by default ("indistinguishable from a memory
    // leak" per its docs): bound what it may keep. No byte changes (same shard SHA-256); peak RSS on 4000 photos was
    // the same either way, so this is a guard for long runs and large rows, not a measured saving.
    private static readonly ParquetOptions Options = new()
    {
        CompressionMethod = CompressionMethod.None,
        MaximumSmallPoolFreeBytes = 16 << 20,
        MaximumLargePoolFreeBytes = 64 << 20,
    };

    private readonly string _finalPath;
    private readonly string _tempPath;
    private readonly int _classCount;
    private readonly ParquetShardLayout _layout;
    private readonly FileStream _file;
    private readonly HashingWriteStream _hashing;
    private readonly ParquetWriter _parquet;
    private long _rows;
    private State _state;

    private enum State
    {
        Open,
        Faulted,
        Completed,
        Disposed,
    }

    private ParquetShardWriter(string finalPath, string tempPath, int classCount, ParquetShardLayout layout, FileStream file, HashingWriteStream hashing, ParquetWriter parquet)
    {
        _finalPath = finalPath;
        _tempPath = tempPath;
        _classCount = classCount;
        _layout = layout;
        _file = file;
        _hashing = hashing;
        _parquet = parquet;
    }

    /// <summary>Starts a shard in a hidden temporary file beside <paramref name="finalPath"/> (its directory is created if missing).</summary>
    public static async Task<ParquetShardWriter> CreateAsync(string finalPath, ShardSchema schema, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(finalPath);
        ArgumentNullException.ThrowIfNull(schema);
        Validate(schema);

        string fullPath = Path.GetFullPath(finalPath);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        // Hidden, same directory (rename stays atomic), random (two writers never collide); never a *.parquet name.
        string tempPath = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");

        var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        var hashing = new HashingWriteStream(file);
        try
        {
            ParquetShardLayout layout = ParquetShardLayout.Create();
            ParquetWriter parquet = await ParquetWriter.CreateAsync(layout.Schema, hashing, Options, append: false, ct).ConfigureAwait(false);
            parquet.CustomMetadata = new Dictionary<string, string>
            {
                [ParquetShardLayout.HuggingFaceKey] = ParquetShardLayout.HuggingFaceJson(schema.ClassNames),
                [ParquetShardLayout.GenerationKey] = schema.GenerationJson,
            };
            return new ParquetShardWriter(fullPath, tempPath, schema.ClassNames.Count, layout, file, hashing, parquet);
        }
        catch
        {
            await hashing.DisposeAsync().ConfigureAwait(false);
            await file.DisposeAsync().ConfigureAwait(false);
            File.Delete(tempPath);
            throw;
        }
    }

    /// <summary>Appends rows as one row group (or several, when their image bytes exceed <see cref="MaxRowGroupBytes"/>).</summary>
    public async Task WriteRowGroupAsync(IReadOnlyList<ShardRow> rows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rows);
        EnsureOpen();
        for (int i = 0; i < rows.Count; i++)
        {
            ValidateRow(rows[i], i);
        }

        // From here on a failure may leave a partial row group in the file: the writer is then only good for disposal.
        _state = State.Faulted;
        foreach ((int start, int count) in RowGroupSpans(rows, MaxRowGroupBytes))
        {
            ct.ThrowIfCancellationRequested();
            await WriteGroupAsync(rows, start, count, ct).ConfigureAwait(false);
        }

        _rows += rows.Count;
        _state = State.Open;
    }

    /// <summary>Writes the footer, fsyncs, and renames the temporary file to the final path (replacing any file there).</summary>
    public async Task<ShardFileInfo> CompleteAsync(CancellationToken ct)
    {
        EnsureOpen();
        ct.ThrowIfCancellationRequested();
        _state = State.Faulted;

        await _parquet.DisposeAsync().ConfigureAwait(false); // writes the footer
        await _hashing.FlushAsync(ct).ConfigureAwait(false);
        _hashing.FlushToDisk();
        long bytes = _hashing.BytesWritten;
        string sha256 = _hashing.Sha256Hex();
        await _hashing.DisposeAsync().ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);

        File.Move(_tempPath, _finalPath, overwrite: true); // rename(2): atomic within one directory
        _state = State.Completed;
        DirectorySync.TryFlush(Path.GetDirectoryName(_finalPath)!);
        return new ShardFileInfo(_finalPath, _rows, bytes, sha256);
    }

    /// <inheritdoc/>
    public void StartDataSync()
    {
        if (_state == State.Open)
        {
            _ = _hashing.StartDataSync();
        }
    }

    /// <summary>Releases the file; without a successful <see cref="CompleteAsync"/> this aborts: the temporary file is deleted and the final path is untouched.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state is State.Completed or State.Disposed)
        {
            _state = State.Disposed;
            return;
        }

        _state = State.Disposed;
        // The ParquetWriter is deliberately not disposed here: its DisposeAsync writes a valid footer even after a failure.
        // Closing flushes buffered bytes, which fails again on a full disk: the temp file is deleted regardless, and
        // the error that caused the abort is the one the caller sees.
        try
        {
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

    /// <summary>Consecutive spans of rows whose image bytes stay within <paramref name="maxBytes"/> (a single larger row gets a span of its own).</summary>
    internal static IEnumerable<(int Start, int Count)> RowGroupSpans(IReadOnlyList<ShardRow> rows, long maxBytes)
    {
        int start = 0;
        while (start < rows.Count)
        {
            int end = start + 1;
            long bytes = rows[start].ImageBytes.Length;
            while (end < rows.Count && bytes + rows[end].ImageBytes.Length <= maxBytes)
            {
                bytes += rows[end].ImageBytes.Length;
                end++;
            }

            yield return (start, end - start);
            start = end;
        }
    }

    private async Task WriteGroupAsync(IReadOnlyList<ShardRow> rows, int start, int count, CancellationToken ct)
    {
        using ParquetRowGroupWriter group = _parquet.CreateRowGroup();
        ParquetShardLayout l = _layout;

        int[] defs = ArrayPool<int>.Shared.Rent(count);
        var images = new ReadOnlyMemory<byte>[count];
        var paths = new ReadOnlyMemory<char>[count];
        var dominants = new long[count];
        var gammas = new float[count];
        var originals = new bool[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                ShardRow row = rows[start + i];
                images[i] = row.ImageBytes;
                paths[i] = row.ImagePath.AsMemory();
                dominants[i] = row.Dominant;
                gammas[i] = row.Gamma;
                originals[i] = row.Original;
            }

            // Rows are never null: every leaf sits at its field's maximum definition level.
            await WriteFlatAsync(group, l.ImageBytes, images, defs, count, ct).ConfigureAwait(false);
            await WriteFlatAsync(group, l.ImagePath, paths, defs, count, ct).ConfigureAwait(false);
            await WriteListAsync(group, l.Label, rows, start, count, static r => r.Label, static v => v, ct).ConfigureAwait(false);
            await WriteFlatAsync(group, l.Dominant, dominants, defs, count, ct).ConfigureAwait(false);
            await WriteListAsync(group, l.Sources, rows, start, count, static r => r.Sources, static v => v.AsMemory(), ct).ConfigureAwait(false);
            await WriteListAsync(group, l.Weights, rows, start, count, static r => r.Weights, static v => v, ct).ConfigureAwait(false);
            await WriteFlatAsync(group, l.Gamma, gammas, defs, count, ct).ConfigureAwait(false);
            await WriteFlatAsync(group, l.Original, originals, defs, count, ct).ConfigureAwait(false);
            await WriteNullableAsync(group, l.Method, rows, start, count, defs, static r => r.Method?.AsMemory(), ct).ConfigureAwait(false);
            await WriteNullableAsync(group, l.Lam, rows, start, count, defs, static r => r.Lam, ct).ConfigureAwait(false);
            group.CompleteValidate();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(defs);
        }
    }

    /// <summary>A flat column without nulls: <paramref name="count"/> values, each at the field's maximum definition level (<paramref name="defs"/> is scratch).</summary>
    /// <remarks>These column writers serve the Parquet shards and the folder format's label tables (<see cref="FolderLabelTable"/>).</remarks>
    internal static Task WriteFlatAsync<T>(ParquetRowGroupWriter group, DataField field, T[] values, int[] defs, int count, CancellationToken ct)
        where T : struct
    {
        Array.Fill(defs, field.MaxDefinitionLevel, 0, count);
        return group.WriteAllPartsAsync<T>(field, values.AsMemory(0, count), defs.AsMemory(0, count), null, ct);
    }

    /// <summary>A nullable flat column: level max with a value, 0 without; values hold only the present ones.</summary>
    internal static Task WriteNullableAsync<TRow, T>(ParquetRowGroupWriter group, DataField field, IReadOnlyList<TRow> rows, int start, int count, int[] defs, Func<TRow, T?> value, CancellationToken ct)
        where T : struct
    {
        var values = new List<T>(count);
        for (int i = 0; i < count; i++)
        {
            T? v = value(rows[start + i]);
            defs[i] = v.HasValue ? field.MaxDefinitionLevel : 0;
            if (v.HasValue)
            {
                values.Add(v.Value);
            }
        }

        return group.WriteAllPartsAsync<T>(field, values.ToArray(), defs.AsMemory(0, count), null, ct);
    }

    /// <summary>An OPTIONAL list column of rows[start..start+count), each element converted by <paramref name="convert"/>.</summary>
    internal static Task WriteListAsync<TRow, TIn, TOut>(ParquetRowGroupWriter group, DataField element, IReadOnlyList<TRow> rows, int start, int count, Func<TRow, TIn[]> list, Func<TIn, TOut> convert, CancellationToken ct)
        where TOut : struct
    {
        var (values, defs, reps) = Levels(element, rows, start, count, list, convert);
        return group.WriteAllPartsAsync<TOut>(element, values, defs, reps, ct);
    }

    /// <summary>Dremel levels of an OPTIONAL list of OPTIONAL elements: an empty list is one entry at level max−2 with no value.</summary>
    private static (TOut[] Values, int[] Defs, int[] Reps) Levels<TRow, TIn, TOut>(DataField element, IReadOnlyList<TRow> rows, int start, int count, Func<TRow, TIn[]> list, Func<TIn, TOut> convert)
    {
        int valueCount = 0;
        int levelCount = 0;
        for (int i = 0; i < count; i++)
        {
            int n = list(rows[start + i]).Length;
            valueCount += n;
            levelCount += Math.Max(n, 1);
        }

        var values = new TOut[valueCount];
        var defs = new int[levelCount];
        var reps = new int[levelCount];
        int present = element.MaxDefinitionLevel;
        int empty = present - 2;
        int v = 0;
        int k = 0;
        for (int i = 0; i < count; i++)
        {
            TIn[] items = list(rows[start + i]);
            if (items.Length == 0)
            {
                defs[k] = empty;
                reps[k++] = 0;
                continue;
            }

            for (int j = 0; j < items.Length; j++)
            {
                values[v++] = convert(items[j]);
                defs[k] = present;
                reps[k++] = j == 0 ? 0 : 1;
            }
        }

        return (values, defs, reps);
    }

    private void EnsureOpen()
    {
        switch (_state)
        {
            case State.Open:
                return;
            case State.Faulted:
                throw new InvalidOperationException($"Shard writer for '{_finalPath}' failed earlier; dispose it to delete the partial file.");
            default:
                throw new InvalidOperationException($"Shard writer for '{_finalPath}' is already completed or disposed.");
        }
    }

    private static void Validate(ShardSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema.ClassNames);
        ArgumentNullException.ThrowIfNull(schema.GenerationJson);
        if (schema.ClassNames.Count == 0)
        {
            throw new ArgumentException("A shard needs at least one class name.", nameof(schema));
        }

        if (schema.ClassNames.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Class names must be non-empty.", nameof(schema));
        }

        try
        {
            using var document = JsonDocument.Parse(schema.GenerationJson);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"GenerationJson is not valid JSON: {ex.Message}", nameof(schema), ex);
        }
    }

    private void ValidateRow(ShardRow row, int index)
    {
        if (row is null)
        {
            throw new ArgumentException($"Row {index} is null.", nameof(row));
        }

        ArgumentNullException.ThrowIfNull(row.ImagePath);
        ArgumentNullException.ThrowIfNull(row.Label);
        ArgumentNullException.ThrowIfNull(row.Sources);
        ArgumentNullException.ThrowIfNull(row.Weights);
        if (row.Label.Length != _classCount)
        {
            throw new ArgumentException($"Row {index} has a label of length {row.Label.Length}; the shard has {_classCount} classes.", nameof(row));
        }

        if (row.Dominant < 0 || row.Dominant >= _classCount)
        {
            throw new ArgumentException($"Row {index} has dominant class {row.Dominant}, outside 0..{_classCount - 1}.", nameof(row));
        }

        if (row.Sources.Length != row.Weights.Length)
        {
            throw new ArgumentException($"Row {index} has {row.Sources.Length} sources but {row.Weights.Length} weights.", nameof(row));
        }

        if (row.Sources.Any(s => s is null))
        {
            throw new ArgumentException($"Row {index} has a null source id.", nameof(row));
        }
    }
}
