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
}
