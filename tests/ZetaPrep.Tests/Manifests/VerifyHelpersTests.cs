using ZetaPrep.Inspection;
using ZetaPrep.Manifests;

namespace ZetaPrep.Tests.Manifests;

public sealed class VerifyHelpersTests
{
    /// <summary>A value a run left unset (--alpha outside mixup and CutMix) reads "none", not an empty string.</summary>
    [Fact]
    public void ByteAffectingDifferences_ShowsANullValueAsNone()
    {
        var recorded = new GenerationOptionsRecord("in", "4", "2.8", 32, 1, 7, 100, 32, "crop", "parquet", "cpu", 2, 100, Method: "cutmix+zeta");
        var now = recorded with { Alpha = 1 };
        Assert.Equal(["--alpha differs (manifest none, now 1)"], recorded.ByteAffectingDifferences(now));
        Assert.Equal(["--alpha differs (manifest 1, now none)"], now.ByteAffectingDifferences(recorded));
    }

    /// <summary>data_files globs as fsspec and DuckDB read them: '*' and '?' stop at '/', '**' crosses it.</summary>
    [Theory]
    [InlineData("data/*.parquet", "data/train-00000-of-00001.parquet", true)]
    [InlineData("data/*.parquet", "data/extra/x.parquet", false)]
    [InlineData("data/*.parquet", "data/x.parquet.tmp", false)]
    [InlineData("data/**.parquet", "data/extra/x.parquet", true)]
    [InlineData("shard-*.tar", "shard-000001.tar", true)]
    [InlineData("shard-*.tar", "sub/shard-000001.tar", false)]
    [InlineData("shard-?.tar", "shard-/.tar", false)]
    [InlineData("labels.parquet", "labels.parquet", true)]
    [InlineData("labels.parquet", "labelsXparquet", false)]
    [InlineData("**/masks/**", "masks/m0.png", true)] // '**/' is zero or more folders: the masks folder at the top too (QA)
    [InlineData("**/masks/**", "lesion/masks/m0.png", true)]
    [InlineData("**/masks/**", "nomasks/m0.png", false)]
    [InlineData("data/**/x.parquet", "data/x.parquet", true)]
    [InlineData("data/**/x.parquet", "data/a/b/x.parquet", true)]
    [InlineData("data/**/x.parquet", "datax.parquet", false)]
    public void GlobMatches_LikeTheLoaders(string glob, string path, bool matches) =>
        Assert.Equal(matches, DatasetVerifier.GlobMatches(glob, path));
}
