using ZetaPrep.Shards;

namespace ZetaPrep.Tests.Shards;

public sealed class ShardNamingTests
{
    [Theory]
    [InlineData("train", 0, 1, "data/train-00000-of-00001.parquet")]
    [InlineData("validation", 12, 345, "data/validation-00012-of-00345.parquet")]
    [InlineData("test.v2", 99999, 100000, "data/test.v2-99999-of-100000.parquet")]
    public void ParquetFileName_FollowsTheHubLayout(string split, int index, int count, string expected) =>
        Assert.Equal(expected, ShardNaming.ParquetFileName(split, index, count));

    [Theory]
    [InlineData("train", 1, 1)]
    [InlineData("train", -1, 1)]
    [InlineData("train", 0, 0)]
    [InlineData("my-split", 0, 1)]
    [InlineData("a/b", 0, 1)]
    public void ParquetFileName_RejectsBadArguments(string split, int index, int count) =>
        Assert.ThrowsAny<ArgumentException>(() => ShardNaming.ParquetFileName(split, index, count));

    [Theory]
    [InlineData("data/train-00000-of-00001.parquet", true, "train")]
    [InlineData("data/test.v2-99999-of-100000.parquet", true, "test.v2")]
    [InlineData("labels/validation-00003-of-00004.parquet", true, "validation")]
    [InlineData("shard-000042.tar", true, null)]
    [InlineData("shard-1234567.tar", true, null)]
    [InlineData("images/00000042.png", true, null)]
    [InlineData("shardindex.json", true, null)]
    [InlineData("labels.parquet", true, null)]
    [InlineData("data/results.csv", false, null)]
    [InlineData("data/train-extra.parquet", false, null)]
    [InlineData("data/train-0-of-1.parquet", false, null)]
    [InlineData("images/logo.png", false, null)]
    [InlineData("images/42.png", false, null)]
    [InlineData("images/sub/00000042.png", false, null)]
    [InlineData("backup/shard-000000.tar", false, null)]
    [InlineData("shard-000000.tar.bak", false, null)]
    [InlineData("shard-000000.tar\n", false, null)]
    [InlineData("README.md", false, null)]
    public void OutputFiles_AreKnownByTheirExactNames(string relative, bool expected, string? split)
    {
        Assert.Equal(expected, ShardFormats.IsOutputFile(relative, out var named));
        Assert.Equal(split, named);
    }
}
