using ZetaPrep.Shards;

namespace ZetaPrep.Tests.Shards;

public sealed class ParquetShardReaderTests
{
    [Fact]
    public async Task TruncatedShard_IsAUserError_NamingTheFile()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "shard.parquet");
        await ShardFixtures.WriteAsync(path, ShardFixtures.Rows(20));
        byte[] bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);

        await AssertUserErrorAsync(path);
    }

    [Fact]
    public async Task Garbage_IsAUserError_NamingTheFile()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "garbage.parquet");
        await File.WriteAllTextAsync(path, "this is not parquet at all, just some text");

        await AssertUserErrorAsync(path);
    }

    [Fact]
    public async Task DamagedFooter_IsAUserError_NamingTheFile()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "shard.parquet");
        await ShardFixtures.WriteAsync(path, ShardFixtures.Rows(20));
        byte[] bytes = await File.ReadAllBytesAsync(path);
        int footer = BitConverter.ToInt32(bytes, bytes.Length - 8);
        new Random(3).NextBytes(bytes.AsSpan(bytes.Length - 8 - footer, footer));
        await File.WriteAllBytesAsync(path, bytes);

        await AssertUserErrorAsync(path);
    }

    [Fact]
    public async Task MissingFile_IsAUserError_NamingTheFile()
    {
        using var dir = new TempDirectory();

        await AssertUserErrorAsync(Path.Combine(dir.Path, "nope.parquet"));
    }

    [Fact]
    public async Task ForeignParquet_IsAUserError_NamingTheFile()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "other.parquet");
        DuckDb.Query($"COPY (SELECT 1 AS x) TO {DuckDb.Literal(path)} (FORMAT parquet)", _ => 0);

        await AssertUserErrorAsync(path);
    }

    private static async Task AssertUserErrorAsync(string path)
    {
        ZetaPrepException rows = await Assert.ThrowsAsync<ZetaPrepException>(() => ShardFixtures.ReadAllAsync(path));
        Assert.Contains(path, rows.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', rows.Message);
        ZetaPrepException metadata = await Assert.ThrowsAsync<ZetaPrepException>(() => ParquetShardReader.ReadMetadataAsync(path, CancellationToken.None));
        Assert.Contains(path, metadata.Message, StringComparison.Ordinal);
    }
}
