using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Planning;

public sealed class PlanOptionsTests
{
    private static PlanOptions With(bool keepOriginals, string method, double prob) =>
        new(MixCount.Parse("2"), GammaSpec.Parse("2.8"), keepOriginals: keepOriginals) { Method = MixMethodOptions.Parse(method, prob: prob) };

    [Theory]
    [InlineData("none", 1.0)]
    [InlineData("zeta", 0.5)]
    [InlineData("mixup", 0.0)]
    public void KeepOriginals_BesideUnmixedOutputs_IsRefused(string method, double prob)
    {
        var e = Assert.Throws<ZetaPrepException>(() => With(keepOriginals: true, method, prob).Validate());
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith("--keep-originals: ", e.Message, StringComparison.Ordinal);
        With(keepOriginals: false, method, prob).Validate();
    }

    [Theory]
    [InlineData("zeta")]
    [InlineData("mixup")]
    [InlineData("cutmix")]
    [InlineData("cutmix+zeta")]
    [InlineData("zeta,cutmix")]
    public void KeepOriginals_WithEveryOutputMixed_IsValid(string method) => With(keepOriginals: true, method, 1.0).Validate();
}
