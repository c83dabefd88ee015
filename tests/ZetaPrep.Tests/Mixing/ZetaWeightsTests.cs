using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Mixing;

public sealed class ZetaWeightsTests
{
    [Fact]
    public void GammaMin_SolvesZetaEqualsTwo()
    {
        var g = ZetaWeights.GammaMin;
        Assert.InRange(g, 1.72864, 1.72866);
        Assert.Equal(2.0, ZetaWeights.RiemannZeta(g), 12);
        // Σ_{j≥2} j^-γ = 1 at γ_min: checked by brute force with a long partial sum plus integral tail.
        var partial = 0.0;
        for (var j = 2_000_000; j >= 2; j--)
        {
            partial += Math.Pow(j, -g);
        }
        partial += Math.Pow(2_000_000.5, 1 - g) / (g - 1);
        Assert.Equal(1.0, partial, 6);
    }

    [Theory]
    [InlineData(2.0, 1.6449340668482264)] // π²/6
    [InlineData(4.0, 1.0823232337111382)] // π⁴/90
    [InlineData(3.0, 1.2020569031595942)] // Apéry's constant
    public void RiemannZeta_MatchesKnownValues(double s, double expected) =>
        Assert.Equal(expected, ZetaWeights.RiemannZeta(s), 13);

    [Fact]
    public void Weights_SumToOne_ArePositive_AndDecreaseWithRank()
    {
        var rng = new DeterministicRandom(42);
        for (var trial = 0; trial < 2000; trial++)
        {
            var n = 2 + rng.NextInt(200);
            var gamma = 0.05 + rng.NextDouble() * 8;
            var w = new double[n];
            ZetaWeights.ForRanks(gamma, w);
            Assert.Equal(1.0, w.Sum(), 12);
            Assert.All(w, v => Assert.True(v > 0));
            for (var i = 1; i < n; i++)
            {
                Assert.True(w[i] < w[i - 1]);
            }
            Assert.Equal(Math.Pow(n, -gamma) / ZetaWeights.Normalizer(n, gamma), w[n - 1], 14);
        }
    }

    [Fact]
    public void AboveGammaMin_DominantOutweighsAllOthers_ForEveryN()
    {
        var rng = new DeterministicRandom(7);
        var gammas = new[] { ZetaWeights.GammaMin, ZetaWeights.GammaMin + 1e-9, 2.0, 2.8, 4.0 }
            .Concat(Enumerable.Range(0, 200).Select(_ => ZetaWeights.GammaMin + rng.NextDouble() * 6));
        foreach (var gamma in gammas)
        {
            foreach (var n in new[] { 2, 3, 8, 64, 1000, 100_000 })
            {
                var w = new double[n];
                ZetaWeights.ForRanks(gamma, w);
                Assert.True(w[0] > w.Skip(1).Sum(), $"γ={gamma}, N={n}");
            }
        }
    }

    [Fact]
    public void BelowGammaMin_DominanceFailsForLargeN()
    {
        // Sanity check that γ_min is the boundary: just below it, a large enough N breaks dominance.
        var w = new double[1_000_000];
        ZetaWeights.ForRanks(ZetaWeights.GammaMin - 0.01, w);
        Assert.True(w[0] < w.Skip(1).Sum());
    }

    [Theory]
    [InlineData(0.51)]
    [InlineData(0.6)]
    [InlineData(0.75)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void NTwo_WithMixupGamma_GivesLambdaAndOneMinusLambda(double lambda)
    {
        var gamma = ZetaWeights.GammaForMixupLambda(lambda);
        var w = new double[2];
        ZetaWeights.ForRanks(gamma, w);
        Assert.Equal(lambda, w[0], 12);
        Assert.Equal(1 - lambda, w[1], 12);
    }

    [Theory]
    [InlineData("2.8", 2.8, 2.8)]
    [InlineData("1.5:4", 1.5, 4.0)]
    [InlineData(" 3 ", 3.0, 3.0)]
    public void GammaSpec_ParsesNumbersAndRanges(string text, double lo, double hi)
    {
        var g = GammaSpec.Parse(text);
        Assert.Equal(lo, g.Low);
        Assert.Equal(hi, g.High);
    }

    [Fact]
    public void GammaSpec_AcceptsEveryGammaFloat32Holds_From1e30Down_To1eMinus30()
    {
        Assert.Equal(1e-30, GammaSpec.Parse("1e-30").Low);
        Assert.Equal(1e30, GammaSpec.Parse("1e-30:1e30").High);
        Assert.True((float)GammaSpec.Smallest > 0 && float.IsFinite((float)GammaSpec.Largest));
    }

    [Theory]
    [InlineData("min:4", "1.728647238998183:4", "1.72865:4")]
    [InlineData("2.8", "2.8", "2.8")]
    [InlineData("0.1:0.30000000000000004", "0.1:0.30000000000000004", "0.1:0.3")]
    [InlineData("1e-30", "1E-30", "1E-30")]
    public void GammaSpec_RecordsExactly_AndShowsPeopleSixDigits(string text, string recorded, string shown)
    {
        Assert.Equal(recorded, GammaSpec.Parse(text).ToString());
        Assert.Equal(shown, GammaSpec.Parse(text).ToDisplayString());
        Assert.Equal(shown, GammaSpec.Display(recorded));
    }

    [Fact]
    public void GammaSpec_Display_ShowsAnUnreadableRecordAsItIs() => Assert.Equal("2.8:x", GammaSpec.Display("2.8:x"));

    [Fact]
    public void GammaSpec_MinMeansGammaMin()
    {
        var g = GammaSpec.Parse("min:4");
        Assert.Equal(ZetaWeights.GammaMin, g.Low);
        Assert.Equal(4.0, g.High);
        Assert.Equal(ZetaWeights.GammaMin + 0.5 * (4 - ZetaWeights.GammaMin), g.At(0.5), 14);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("abc")]
    [InlineData("4:2")]
    [InlineData("1:2:3")]
    [InlineData(":3")]
    [InlineData("")]
    [InlineData("1e-320")] // float32 would store 0, an original's γ
    [InlineData("1e-31:2")]
    [InlineData("1e300")]  // float32 would store ∞
    public void GammaSpec_RejectsBadValues_AsUsageErrors(string text)
    {
        var e = Assert.Throws<ZetaPrepException>(() => GammaSpec.Parse(text));
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith("--gamma", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("two")]
    [InlineData("2.5")]
    public void MixCount_RejectsBadValues_AsUsageErrors(string text)
    {
        var e = Assert.Throws<ZetaPrepException>(() => MixCount.Parse(text));
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith("--n", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MixCount_ParsesIntegersAndBatch()
    {
        Assert.Equal(8, MixCount.Parse("8").N);
        Assert.True(MixCount.Parse("batch").IsWholeBatch);
        Assert.Equal(5, MixCount.Parse("batch").For(5));
        Assert.Equal(3, MixCount.Parse("8").For(3));
    }
}
