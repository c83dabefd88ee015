using Parquet;
using Parquet.Schema;

namespace ZetaPrep.Shards;

/// <summary>
/// Reads and writes the folder format's label tables (<c>labels.parquet</c> and each shard's part) with Parquet.Net's
/// typed column API, as the Parquet shards are: no reflection over the row type, so it works in the native-AOT tool.
/// </summary>
/// <remarks>
/// Every column is OPTIONAL, as HuggingFace expects (FACTS.md §3); lists are OPTIONAL lists of OPTIONAL elements named
/// "element". ZetaPrep writes no nulls except <c>method</c> and <c>lam</c>, and rejects them elsewhere when reading.
/// </remarks>
internal static class FolderLabelTable
{
    private static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.None };

    /// <summary>
    /// Serialises <paramref name="rows"/> to Parquet bytes (one row group), with the HuggingFace features (<c>dominant</c>
    /// a ClassLabel of <paramref name="classNames"/>) in the footer's <c>huggingface</c> key, as a Parquet shard has.
    /// </summary>
    public static async Task<byte[]> ToBytesAsync(IReadOnlyList<FolderLabelRow> rows, IReadOnlyList<string>? classNames, CancellationToken ct)
    {
        var f = new Fields();
        using var buffer = new MemoryStream();
        var writer = await ParquetWriter.CreateAsync(f.Schema, buffer, Options, append: false, ct).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            if (classNames is not null)
            {
                writer.CustomMetadata = new Dictionary<string, string>
                {
                    [ParquetShardLayout.HuggingFaceKey] = ParquetShardLayout.HuggingFaceJson(classNames, folderTable: true),
                };
            }
            using var group = writer.CreateRowGroup();
            int n = rows.Count;
            var defs = new int[n];
            await ParquetShardWriter.WriteFlatAsync(group, f.FileName, rows.Select(r => r.FileName.AsMemory()).ToArray(), defs, n, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteListAsync(group, f.Label, rows, 0, n, static r => r.Label, static v => v, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteFlatAsync(group, f.Dominant, rows.Select(r => r.Dominant).ToArray(), defs, n, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteListAsync(group, f.Sources, rows, 0, n, static r => r.Sources, static v => v.AsMemory(), ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteListAsync(group, f.Weights, rows, 0, n, static r => r.Weights, static v => v, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteFlatAsync(group, f.Gamma, rows.Select(r => r.Gamma).ToArray(), defs, n, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteFlatAsync(group, f.Original, rows.Select(r => r.Original).ToArray(), defs, n, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteNullableAsync(group, f.Method, rows, 0, n, defs, static r => r.Method?.AsMemory(), ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteNullableAsync(group, f.Lam, rows, 0, n, defs, static r => r.Lam, ct).ConfigureAwait(false);
            await ParquetShardWriter.WriteFlatAsync(group, f.Sha256, rows.Select(r => r.Sha256.AsMemory()).ToArray(), defs, n, ct).ConfigureAwait(false);
            group.CompleteValidate();
        }
        return buffer.ToArray();
    }

    /// <summary>Every row of a label table, in file order, and the class names its <c>huggingface</c> key records (null in a
    /// table written without them, by zetaprep 0.3 and earlier); Parquet.Net's exceptions pass through to the caller.</summary>
    public static async Task<(List<FolderLabelRow> Rows, IReadOnlyList<string>? ClassNames)> ReadTableAsync(Stream stream, CancellationToken ct)
    {
        var reader = await ParquetReader.CreateAsync(stream, parquetOptions: null, leaveStreamOpen: true, ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var classNames = reader.CustomMetadata.TryGetValue(ParquetShardLayout.HuggingFaceKey, out var hf) ? ParquetShardLayout.ClassNamesFrom(hf) : null;
        var f = reader.Schema.GetDataFields();
        var expected = new Fields().Schema.GetDataFields();
        if (f.Length != expected.Length || f.Where((d, i) => d.Path.ToString() != expected[i].Path.ToString()).Any())
        {
            throw new InvalidDataException($"columns {string.Join(", ", f.Select(d => d.Path.ToString()))} are not a ZetaPrep label table");
        }
        var rows = new List<FolderLabelRow>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int n = checked((int)group.RowCount);
            var names = ParquetShardReader.Flat(await ParquetShardReader.ReadLeafAsync<ReadOnlyMemory<char>>(group, f[0], ct).ConfigureAwait(false), n, f[0], static v => new string(v.Span));
            var labels = ParquetShardReader.Lists(await ParquetShardReader.ReadLeafAsync<float>(group, f[1], ct).ConfigureAwait(false), n, f[1], static v => v);
            var dominants = ParquetShardReader.Flat(await ParquetShardReader.ReadLeafAsync<long>(group, f[2], ct).ConfigureAwait(false), n, f[2], static v => v);
            var sources = ParquetShardReader.Lists(await ParquetShardReader.ReadLeafAsync<ReadOnlyMemory<char>>(group, f[3], ct).ConfigureAwait(false), n, f[3], static v => new string(v.Span));
            var weights = ParquetShardReader.Lists(await ParquetShardReader.ReadLeafAsync<float>(group, f[4], ct).ConfigureAwait(false), n, f[4], static v => v);
            var gammas = ParquetShardReader.Flat(await ParquetShardReader.ReadLeafAsync<float>(group, f[5], ct).ConfigureAwait(false), n, f[5], static v => v);
            var originals = ParquetShardReader.Flat(await ParquetShardReader.ReadLeafAsync<bool>(group, f[6], ct).ConfigureAwait(false), n, f[6], static v => v);
            var methods = ParquetShardReader.Nullable<ReadOnlyMemory<char>, string>(await ParquetShardReader.ReadLeafAsync<ReadOnlyMemory<char>>(group, f[7], ct).ConfigureAwait(false), n, f[7], static v => new string(v.Span));
            var lams = ParquetShardReader.Nullable(await ParquetShardReader.ReadLeafAsync<float>(group, f[8], ct).ConfigureAwait(false), n, f[8], static v => (float?)v);
            var hashes = ParquetShardReader.Flat(await ParquetShardReader.ReadLeafAsync<ReadOnlyMemory<char>>(group, f[9], ct).ConfigureAwait(false), n, f[9], static v => new string(v.Span));
            for (int i = 0; i < n; i++)
            {
                rows.Add(new FolderLabelRow(names[i], labels[i], dominants[i], sources[i], weights[i], gammas[i], originals[i], methods[i], lams[i], hashes[i]));
            }
        }
        return (rows, classNames);
    }

    /// <summary>The table's schema; fields attach to one schema instance, so each reader and writer builds its own.</summary>
    private sealed class Fields
    {
        public Fields()
        {
            Schema = new ParquetSchema(
                FileName, new ListField("label", Label), Dominant, new ListField("sources", Sources), new ListField("weights", Weights),
                Gamma, Original, Method, Lam, Sha256);
        }

        public DataField FileName { get; } = new DataField<string>("file_name", true);

        public DataField Label { get; } = new DataField<float?>(ListField.ElementName);

        public DataField Dominant { get; } = new DataField<long?>("dominant");

        public DataField Sources { get; } = new DataField<string>(ListField.ElementName, true);

        public DataField Weights { get; } = new DataField<float?>(ListField.ElementName);

        public DataField Gamma { get; } = new DataField<float?>("gamma");

        public DataField Original { get; } = new DataField<bool?>("original");

        public DataField Method { get; } = new DataField<string>("method", true);

        public DataField Lam { get; } = new DataField<float?>("lam");

        public DataField Sha256 { get; } = new DataField<string>("sha256", true);

        public ParquetSchema Schema { get; }
    }
}
