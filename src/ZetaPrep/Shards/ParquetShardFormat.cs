using System.Runtime.CompilerServices;

namespace ZetaPrep.Shards;

/// <summary>HuggingFace hub Parquet shards under <c>data/</c>.</summary>
internal sealed class ParquetShardFormat : IShardFormat
{
    public ShardFormat Kind => ShardFormat.Parquet;

    public string Name => "parquet";

    public IReadOnlyList<string> IndexFiles { get; } = [];

    public string DataFilesGlob => "data/*.parquet";

    public string ShardFileName(string split, int index, int count) => ShardNaming.ParquetFileName(split, index, count);

    public async Task<IShardWriter> CreateWriterAsync(string outputDirectory, string relativePath, ShardSchema schema, CancellationToken ct) =>
        await ParquetShardWriter.CreateAsync(Path.Combine(outputDirectory, relativePath), schema, ct).ConfigureAwait(false);

    public async IAsyncEnumerable<ShardRow> ReadRowsAsync(string outputDirectory, string relativePath, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ParquetShardReader.ReadRowsAsync(Path.Combine(outputDirectory, relativePath), ct).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    public Task<IReadOnlyList<(string Relative, byte[] Bytes)>> BuildIndexAsync(string outputDirectory, IReadOnlyList<string> shardFiles, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<(string Relative, byte[] Bytes)>>([]);

    public bool IsInDataArea(string relativePath) => relativePath.StartsWith("data/", StringComparison.Ordinal);
}
