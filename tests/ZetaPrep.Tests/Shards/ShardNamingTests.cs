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
}
