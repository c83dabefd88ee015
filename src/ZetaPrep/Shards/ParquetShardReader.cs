using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace ZetaPrep.Shards;

/// <summary>Reads shards written by <see cref="ParquetShardWriter"/>; a missing, corrupt or foreign file is a <see cref="ZetaPrepException"/> naming it.</summary>
public static class ParquetShardReader
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    /// <summary>Streams the rows, one row group in memory at a time.</summary>
    public static async IAsyncEnumerable<ShardRow> ReadRowsAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        await using ParquetReader reader = await OpenAsync(path, ct).ConfigureAwait(false);
        DataField[] fields = reader.Schema.GetDataFields();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            List<ShardRow> rows = await ReadGroupAsync(reader, fields, g, path, ct).ConfigureAwait(false);
            foreach (ShardRow row in rows)
            {
                yield return row;
            }
        }
    }

    /// <summary>Class names (from the <c>huggingface</c> ClassLabel), the <c>zetaprep</c> generation JSON and the row count, from the footer alone.</summary>
    public static async Task<ShardFileMetadata> ReadMetadataAsync(string path, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ParquetReader reader = await OpenAsync(path, ct).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            Dictionary<string, string> metadata = reader.CustomMetadata;
            if (!metadata.TryGetValue(ParquetShardLayout.HuggingFaceKey, out string? huggingFace)
                || !metadata.TryGetValue(ParquetShardLayout.GenerationKey, out string? generation))
            {
                throw NotAShard(path, $"its footer lacks the '{ParquetShardLayout.HuggingFaceKey}' or '{ParquetShardLayout.GenerationKey}' metadata");
            }

            IReadOnlyList<string>? classNames;
            try
            {
                classNames = ParquetShardLayout.ClassNamesFrom(huggingFace);
            }
            catch (JsonException ex)
            {
                throw NotAShard(path, $"its '{ParquetShardLayout.HuggingFaceKey}' metadata is not JSON ({ex.Message})");
            }

            if (classNames is null)
            {
                throw NotAShard(path, $"its '{ParquetShardLayout.HuggingFaceKey}' metadata has no ClassLabel 'dominant' feature");
            }

            long rows = reader.Metadata?.NumRows ?? 0;
            return new ShardFileMetadata(classNames, generation, rows);
        }
    }

    private static async Task<ParquetReader> OpenAsync(string path, CancellationToken ct)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, useAsync: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ZetaPrepException($"Shard '{path}' does not exist; check the path or regenerate the dataset.", 1, ex);
        }

        try
        {
            await CheckFrameAsync(file, path, ct).ConfigureAwait(false);
            ParquetReader reader;
            try
            {
                reader = await ParquetReader.CreateAsync(file, parquetOptions: null, leaveStreamOpen: false, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsCorruption(ex))
            {
                throw Corrupt(path, Reason(ex, "its footer does not decode"), ex);
            }

            ParquetSchema expected = ParquetShardLayout.Create().Schema;
            ParquetSchema actual;
            try
            {
                actual = reader.Schema; // decoded lazily: a damaged footer fails here
            }
            catch (Exception ex) when (IsCorruption(ex))
            {
                await reader.DisposeAsync().ConfigureAwait(false);
                throw Corrupt(path, Reason(ex, "its schema does not decode"), ex);
            }

            if (!actual.Equals(expected))
            {
                string found = string.Join(", ", reader.Schema.Fields.Select(f => f.Name));
                string wanted = string.Join(", ", expected.Fields.Select(f => f.Name));
                await reader.DisposeAsync().ConfigureAwait(false);
                throw NotAShard(path, $"its columns ({found}) or their types differ from a shard's ({wanted}, all OPTIONAL)");
            }

            return reader;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Checks "PAR1" at both ends and a footer length that fits, before Parquet.Net trusts the footer.</summary>
    private static async Task CheckFrameAsync(FileStream file, string path, CancellationToken ct)
    {
        long length = file.Length;
        if (length < 12)
        {
            throw Corrupt(path, $"{length} bytes is too short for Parquet", null);
        }

        var head = new byte[4];
        var tail = new byte[8];
        await file.ReadExactlyAsync(head, ct).ConfigureAwait(false);
        file.Seek(-8, SeekOrigin.End);
        await file.ReadExactlyAsync(tail, ct).ConfigureAwait(false);
        file.Seek(0, SeekOrigin.Begin);
        int footer = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (!head.AsSpan().SequenceEqual(Magic) || !tail.AsSpan(4).SequenceEqual(Magic))
        {
            throw Corrupt(path, "no 'PAR1' magic at both ends (truncated or not Parquet)", null);
        }

        if (footer <= 0 || footer > length - 12)
        {
            throw Corrupt(path, $"footer length {footer} does not fit in {length} bytes", null);
        }
    }

    private static async Task<List<ShardRow>> ReadGroupAsync(ParquetReader reader, DataField[] f, int index, string path, CancellationToken ct)
    {
        try
        {
            using ParquetRowGroupReader group = reader.OpenRowGroupReader(index);
            int count = checked((int)group.RowCount);
            Leaf<ReadOnlyMemory<byte>> images = await ReadLeafAsync<ReadOnlyMemory<byte>>(group, f[0], ct).ConfigureAwait(false);
            Leaf<ReadOnlyMemory<char>> paths = await ReadLeafAsync<ReadOnlyMemory<char>>(group, f[1], ct).ConfigureAwait(false);
            Leaf<float> labels = await ReadLeafAsync<float>(group, f[2], ct).ConfigureAwait(false);
            Leaf<long> dominants = await ReadLeafAsync<long>(group, f[3], ct).ConfigureAwait(false);
            Leaf<ReadOnlyMemory<char>> sources = await ReadLeafAsync<ReadOnlyMemory<char>>(group, f[4], ct).ConfigureAwait(false);
            Leaf<float> weights = await ReadLeafAsync<float>(group, f[5], ct).ConfigureAwait(false);
            Leaf<float> gammas = await ReadLeafAsync<float>(group, f[6], ct).ConfigureAwait(false);
            Leaf<bool> originals = await ReadLeafAsync<bool>(group, f[7], ct).ConfigureAwait(false);
            Leaf<ReadOnlyMemory<char>> methods = await ReadLeafAsync<ReadOnlyMemory<char>>(group, f[8], ct).ConfigureAwait(false);
            Leaf<float> lams = await ReadLeafAsync<float>(group, f[9], ct).ConfigureAwait(false);

            byte[][] imageColumn = Flat(images, count, f[0], static v => v.ToArray());
            string[] pathColumn = Flat(paths, count, f[1], static v => new string(v.Span));
            float[][] labelColumn = Lists(labels, count, f[2], static v => v);
            long[] dominantColumn = Flat(dominants, count, f[3], static v => v);
            string[][] sourceColumn = Lists(sources, count, f[4], static v => new string(v.Span));
            float[][] weightColumn = Lists(weights, count, f[5], static v => v);
            float[] gammaColumn = Flat(gammas, count, f[6], static v => v);
            bool[] originalColumn = Flat(originals, count, f[7], static v => v);
            string?[] methodColumn = Nullable<ReadOnlyMemory<char>, string>(methods, count, f[8], static v => new string(v.Span));
            float?[] lamColumn = Nullable(lams, count, f[9], static v => (float?)v);

            var rows = new List<ShardRow>(count);
            for (int i = 0; i < count; i++)
            {
                rows.Add(new ShardRow(imageColumn[i], pathColumn[i], labelColumn[i], dominantColumn[i], sourceColumn[i], weightColumn[i], gammaColumn[i], originalColumn[i], methodColumn[i], lamColumn[i]));
            }

            return rows;
        }
        catch (Exception ex) when (IsCorruption(ex))
        {
            throw Corrupt(path, $"row group {index}: {Reason(ex, "its data does not decode")}", ex);
        }
    }

    internal static async Task<Leaf<T>> ReadLeafAsync<T>(ParquetRowGroupReader group, DataField field, CancellationToken ct)
        where T : struct
    {
        long numValues = group.GetMetadata(field)?.MetaData?.NumValues
            ?? throw new MalformedShardException($"column '{field.Path}' is missing");
        int n = checked((int)numValues);
        var values = new T[n];
        var defs = new int[n];
        int[]? reps = field.MaxRepetitionLevel > 0 ? new int[n] : null;
        // Spelled out: a null int[] (even a bare null in a ?: ) converts to an empty Memory<int>, not to a null Memory<int>?.
        Memory<int>? repetitionLevels = null;
        if (reps is not null)
        {
            repetitionLevels = reps;
        }

        await group.ReadRawAsync<T>(field, values, defs, repetitionLevels, ct).ConfigureAwait(false);
        return new Leaf<T>(values, defs, reps);
    }

    internal static TOut[] Flat<T, TOut>(Leaf<T> leaf, int count, DataField field, Func<T, TOut> convert)
    {
        if (leaf.Defs.Length != count)
        {
            throw new MalformedShardException($"column '{field.Path}' has {leaf.Defs.Length} values for {count} rows");
        }

        var result = new TOut[count];
        for (int i = 0; i < count; i++)
        {
            if (leaf.Defs[i] != field.MaxDefinitionLevel)
            {
                throw new MalformedShardException($"column '{field.Path}' is null in row {i}; ZetaPrep never writes nulls");
            }

            result[i] = convert(leaf.Values[i]);
        }

        return result;
    }

    /// <summary>A nullable flat column: values are dense (only rows at the maximum definition level have one).</summary>
    internal static TOut?[] Nullable<T, TOut>(Leaf<T> leaf, int count, DataField field, Func<T, TOut> convert)
    {
        if (leaf.Defs.Length != count)
        {
            throw new MalformedShardException($"column '{field.Path}' has {leaf.Defs.Length} values for {count} rows");
        }

        var result = new TOut?[count];
        int v = 0;
        for (int i = 0; i < count; i++)
        {
            if (leaf.Defs[i] == field.MaxDefinitionLevel)
            {
                result[i] = convert(leaf.Values[v++]);
            }
        }

        return result;
    }

    /// <summary>Rebuilds OPTIONAL lists of OPTIONAL elements from Dremel levels (see the writer); nulls are rejected.</summary>
    internal static TOut[][] Lists<T, TOut>(Leaf<T> leaf, int count, DataField element, Func<T, TOut> convert)
    {
        int present = element.MaxDefinitionLevel;
        int empty = present - 2;
        var result = new TOut[count][];
        var current = new List<TOut>();
        int row = -1;
        int v = 0;
        for (int k = 0; k < leaf.Defs.Length; k++)
        {
            if (leaf.Reps![k] == 0)
            {
                if (row >= 0)
                {
                    result[row] = [.. current];
                }

                row++;
                current.Clear();
                if (row >= count)
                {
                    throw new MalformedShardException($"column '{element.Path}' has more than {count} rows");
                }
            }
            else if (row < 0)
            {
                throw new MalformedShardException($"column '{element.Path}' starts mid-list");
            }

            int def = leaf.Defs[k];
            if (def == present)
            {
                current.Add(convert(leaf.Values[v++]));
            }
            else if (def != empty || leaf.Reps[k] != 0)
            {
                throw new MalformedShardException($"column '{element.Path}' has a null in row {row}; ZetaPrep never writes nulls");
            }
        }

        if (row >= 0)
        {
            result[row] = [.. current];
        }

        if (row != count - 1)
        {
            throw new MalformedShardException($"column '{element.Path}' has {row + 1} rows, expected {count}");
        }

        return result;
    }

    // Parquet.Net reports damage in many shapes (IOException, ParquetException, thrift, index and overflow errors).
    private static bool IsCorruption(Exception ex) =>
        ex is not (OperationCanceledException or ZetaPrepException or OutOfMemoryException);

    /// <summary>What a damaged file's exception says, in words for the user: ours name the column and row; Parquet.Net's and
    /// the runtime's ("Index was out of range…") say nothing about the file, so <paramref name="plain"/> stands for them.</summary>
    private static string Reason(Exception ex, string plain) => ex is MalformedShardException ? ex.Message : plain;

    private static ZetaPrepException Corrupt(string path, string reason, Exception? inner) =>
        new($"Shard '{path}' is corrupt or not a Parquet file ({reason}); delete it and regenerate it.", 1, inner);

    private static ZetaPrepException NotAShard(string path, string reason) =>
        new($"'{path}' is not a ZetaPrep Parquet shard: {reason}; point at a shard written by ZetaPrep.");

    /// <summary>A column that decodes but is not what the writer writes (a null, a count that does not add up): its message is ours.</summary>
    private sealed class MalformedShardException : Exception
    {
        public MalformedShardException()
        {
        }

        public MalformedShardException(string message) : base(message)
        {
        }

        public MalformedShardException(string message, Exception inner) : base(message, inner)
        {
        }
    }

    internal sealed record Leaf<T>(T[] Values, int[] Defs, int[]? Reps);
}
