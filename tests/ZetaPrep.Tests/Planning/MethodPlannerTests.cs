using TorchSharp;
using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Planning;

public sealed class MethodPlannerTests
{
    private static PlanOptions Options(MixMethodOptions method, int batch = 16, ulong seed = 0, int size = 32, string n = "4") =>
        new(MixCount.Parse(n), GammaSpec.Parse("2.8"), batch, 1, seed, 1000) { Method = method, ImageSize = size };

    private static IEnumerable<MixRecipe> Recipes(int inputs, PlanOptions options) =>
        MixPlan.Create(inputs, options).Batches.SelectMany(b => b.Outputs);

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.4)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void MixupLambda_HasTheMomentsOfBeta(double alpha)
    {
        var lambdas = Recipes(20_000, Options(MixMethodOptions.Parse("mixup", alpha), batch: 64, seed: 7))
            .Select(r => r.Lambda!.Value).ToArray();
        Assert.Equal(20_000, lambdas.Length);
        var mean = lambdas.Average();
        var variance = lambdas.Select(l => (l - mean) * (l - mean)).Sum() / (lambdas.Length - 1);
        // Beta(α, α): mean 1/2, variance 1/(4(2α+1)).
        var expected = 1.0 / (4 * (2 * alpha + 1));
        Assert.InRange(mean, 0.49, 0.51);
        Assert.InRange(variance, expected * 0.95, expected * 1.05);
        Assert.All(lambdas, l => Assert.InRange(l, 0.0, 1.0));
    }

    [Fact]
    public void MixupDefaultAlpha_Is02_AndCutMixDefault_Is1()
    {
        Assert.Equal(0.2, MixMethodOptions.Parse("mixup").ResolvedAlpha);
        Assert.Equal(1.0, MixMethodOptions.Parse("cutmix").ResolvedAlpha);
        Assert.Equal(1.0, MixMethodOptions.Parse("cutmix+zeta").ResolvedAlpha);
        Assert.Null(MixMethodOptions.Parse("zeta").ResolvedAlpha);
        Assert.Equal(0.5, MixMethodOptions.Parse("zeta,cutmix").ResolvedSwitchProb);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Mixup_PairsInputKWithAnotherInput_DominantHasTheLargerWeight(ulong seed)
    {
        var plan = MixPlan.Create(100, Options(MixMethodOptions.Parse("mixup", 0.4), batch: 8, seed: seed));
        foreach (var batch in plan.Batches)
        {
            for (var k = 0; k < batch.Outputs.Length; k++)
            {
                var o = batch.Outputs[k];
                Assert.Equal(MixMethod.Mixup, o.Method);
                Assert.Equal(2, o.Members.Length);
                Assert.Contains(k, o.Members);
                Assert.NotEqual(o.Members[0], o.Members[1]);
                Assert.True(o.Weights[0] >= o.Weights[1]);
                Assert.Equal(1.0, o.Weights.Sum(), 12);
                // λ is input k's weight, whichever position it sorted into.
                Assert.Equal(o.Lambda!.Value, o.Weights[Array.IndexOf(o.Members, k)], 15);
                Assert.Null(o.Box);
            }
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-60)]
    [InlineData(1.0)]
    [InlineData(1e-46)]
    public void Mixup_WhoseSmallerWeightIsZeroInFloat32_RecordsInfiniteGamma(double lambda)
    {
        // The shards store weights as float32: a λ of 1e-60 is written [1, 0], so γ = log₂(1/0) = ∞ (float.MaxValue), not 199.
        var recipe = MethodPlanner.Mixup(0, 1, lambda);
        Assert.Equal([1f, 0f], recipe.Weights.Select(w => (float)w));
        Assert.Equal(float.MaxValue, recipe.Gamma);
    }

    [Theory]
    [InlineData(1e-30)]
    [InlineData(0.25)]
    public void Mixup_GammaIsLog2OfTheWeightRatio(double lambda)
    {
        var recipe = MethodPlanner.Mixup(0, 1, lambda);
        Assert.Equal(Math.Log2((1.0 - lambda) / lambda), recipe.Gamma, 12);
    }

    [Fact]
    public void ZetaWithNTwo_AndGammaLog2LambdaRatio_EqualsMixup_WeightsAndPixels()
    {
        const int Pixels = 5 * 5 * 3;
        var plan = MixPlan.Create(64, Options(MixMethodOptions.Parse("mixup", 1.0), batch: 8, seed: 3));
        var random = new Random(5);
        using var mixer = new TorchMixer(torch.CPU, 8, Pixels);
        foreach (var batch in plan.Batches)
        {
            var m = batch.Inputs.Length;
            var x = new byte[m * Pixels];
            random.NextBytes(x);
            // The equivalent ζ plan: N = 2, same members, γ = log₂(λ/(1−λ)) for the dominant λ.
            var zeta = batch with
            {
                Outputs = [.. batch.Outputs.Select(o =>
                {
                    var w = new double[2];
                    ZetaWeights.ForRanks(ZetaWeights.GammaForMixupLambda(o.Weights[0]), w);
                    Assert.Equal(o.Weights[0], w[0], 12);
                    Assert.Equal(o.Weights[1], w[1], 12);
                    Assert.Equal(ZetaWeights.GammaForMixupLambda(o.Weights[0]), o.Gamma, 12);
                    return new MixRecipe(o.Members, w, o.Gamma);
                })],
            };
            var mixupOut = new byte[m * Pixels];
            var zetaOut = new byte[m * Pixels];
            mixer.Mix(x, m, batch.WeightMatrix(), m, mixupOut);
            mixer.Mix(x, m, zeta.WeightMatrix(), m, zetaOut);
            Assert.Equal(mixupOut, zetaOut);
        }
    }

    [Theory]
    [InlineData("cutmix", 0UL, 32)]
    [InlineData("cutmix", 9UL, 7)]
    [InlineData("cutmix+zeta", 4UL, 16)]
    [InlineData("cutmix+zeta", 5UL, 3)]
    public void CutMix_LambdaIsTheUnpastedFraction_OfAClippedBox(string name, ulong seed, int size)
    {
        var plan = MixPlan.Create(300, Options(MixMethodOptions.Parse(name), batch: 10, seed: seed, size: size));
        var clipped = 0;
        foreach (var batch in plan.Batches)
        {
            for (var k = 0; k < batch.Outputs.Length; k++)
            {
                var o = batch.Outputs[k];
                var box = o.Box!;
                Assert.InRange(box.X0, 0, size);
                Assert.InRange(box.X1, box.X0, size);
                Assert.InRange(box.Y0, 0, size);
                Assert.InRange(box.Y1, box.Y0, size);
                Assert.NotEqual(k, box.Partner);
                Assert.Equal(1.0 - (double)box.Area / (size * size), o.Lambda!.Value, 15);
                Assert.Equal(1.0, o.Weights.Sum(), 12);
                Assert.Equal(o.Weights.Max(), o.Weights[0]);
                clipped += box.X0 == 0 || box.Y0 == 0 || box.X1 == size || box.Y1 == size ? 1 : 0;
                if (name == "cutmix")
                {
                    Assert.Equal([k], o.PixelMembers!);
                    Assert.False(box.FromMixed);
                }
                else
                {
                    Assert.True(box.FromMixed);
                    // Label = λ·ŷ_k + (1−λ)·ŷ_partner, ŷ being the ζ rows (the pixel recipes).
                    var own = batch.Outputs[k];
                    var partner = batch.Outputs[box.Partner];
                    var expected = new double[batch.Inputs.Length];
                    for (var i = 0; i < own.PixelMembers!.Length; i++)
                    {
                        expected[own.PixelMembers[i]] += o.Lambda.Value * own.PixelWeights![i];
                    }
                    for (var i = 0; i < partner.PixelMembers!.Length; i++)
                    {
                        expected[partner.PixelMembers[i]] += (1 - o.Lambda.Value) * partner.PixelWeights![i];
                    }
                    var actual = new double[batch.Inputs.Length];
                    for (var i = 0; i < o.Members.Length; i++)
                    {
                        actual[o.Members[i]] += o.Weights[i];
                    }
                    Assert.Equal(expected, actual, new ToleranceComparer(1e-12));
                }
            }
        }
        Assert.True(clipped > 0, "some boxes should be clipped at the border");
    }

    [Fact]
    public void CutMixBox_FollowsTheReferenceRandBbox()
    {
        // λ = 0.75, S = 8: cut = ⌊8·0.5⌋ = 4, half 2; centre (1, 7) → x [0, 3), y [5, 8) after clipping.
        var box = CutMixBox.For(0.75, 8, 1, 7, partner: 2, fromMixed: false);
        Assert.Equal((0, 5, 3, 8), (box.X0, box.Y0, box.X1, box.Y1));
        Assert.Equal(9, box.Area);
    }

    [Theory]
    [InlineData("zeta")]
    [InlineData("mixup")]
    [InlineData("cutmix")]
    public void ProbZero_GivesOnlyOriginals_AndProbHalf_AboutHalf(string name)
    {
        var none = Recipes(500, Options(MixMethodOptions.Parse(name, prob: 0), seed: 2)).ToList();
        Assert.All(none, o => Assert.Equal((MixMethod.None, 1, 1.0, 0.0), (o.Method, o.Members.Length, o.Weights[0], o.Gamma)));
        var half = Recipes(10_000, Options(MixMethodOptions.Parse(name, prob: 0.5), seed: 2)).ToList();
        var originals = half.Count(o => o.Method == MixMethod.None);
        Assert.InRange(originals, 4_800, 5_200);
        Assert.All(half.Where(o => o.Method != MixMethod.None), o => Assert.Equal(name, MixMethodOptions.NameOf(o.Method)));
    }

    [Fact]
    public void None_IsEachInputUnmixed()
    {
        var plan = MixPlan.Create(50, Options(MixMethodOptions.Parse("none"), batch: 8));
        foreach (var batch in plan.Batches)
        {
            Assert.Equal(Enumerable.Range(0, batch.Outputs.Length), batch.Outputs.Select(o => o.Members.Single()));
        }
    }

    [Fact]
    public void SwitchProb_ChoosesCutMixPerOutput_AndZeroSwitchIsPlainZeta()
    {
        var switched = Recipes(10_000, Options(MixMethodOptions.Parse("zeta,cutmix", switchProb: 0.3), seed: 4)).ToList();
        Assert.InRange(switched.Count(o => o.Method == MixMethod.CutMix), 2_800, 3_200);
        Assert.Equal(10_000, switched.Count(o => o.Method is MixMethod.CutMix or MixMethod.Zeta));

        var plain = Recipes(300, Options(MixMethodOptions.Default, seed: 4)).ToList();
        var never = Recipes(300, Options(MixMethodOptions.Parse("zeta,cutmix", switchProb: 0), seed: 4)).ToList();
        for (var i = 0; i < plain.Count; i++)
        {
            Assert.Equal(plain[i].Members, never[i].Members);
            Assert.Equal(plain[i].Weights, never[i].Weights);
            Assert.Equal(plain[i].Gamma, never[i].Gamma);
        }
    }

    [Fact]
    public void Plans_AreDeterministic_ForEveryMethod()
    {
        foreach (var name in new[] { "zeta", "mixup", "cutmix", "cutmix+zeta", "none", "zeta,cutmix" })
        {
            var a = Recipes(200, Options(MixMethodOptions.Parse(name, prob: 0.7), seed: 11)).ToList();
            var b = Recipes(200, Options(MixMethodOptions.Parse(name, prob: 0.7), seed: 11)).ToList();
            Assert.Equal(a.Select(o => (o.Method, o.Lambda, o.Box)), b.Select(o => (o.Method, o.Lambda, o.Box)));
            Assert.Equal(a.SelectMany(o => o.Weights), b.SelectMany(o => o.Weights));
        }
    }

    [Theory]
    [InlineData("zeta-mix", null, 0.0, 1.0, null, "--method")]
    [InlineData("mixup", 0.0, 0.0, 1.0, null, "--alpha")]
    [InlineData("mixup", -1.0, 0.0, 1.0, null, "--alpha")]
    [InlineData("cutmix", double.NaN, 0.0, 1.0, null, "--alpha")]
    [InlineData("zeta", 0.5, 0.0, 1.0, null, "--alpha")]
    [InlineData("mixup", null, 1.0, 1.0, null, "--label-smoothing")]
    [InlineData("mixup", null, -0.1, 1.0, null, "--label-smoothing")]
    [InlineData("mixup", null, 0.0, 1.5, null, "--prob")]
    [InlineData("mixup", null, 0.0, double.NaN, null, "--prob")]
    [InlineData("zeta,cutmix", null, 0.0, 1.0, -0.1, "--switch-prob")]
    [InlineData("zeta", null, 0.0, 1.0, 0.5, "--switch-prob")]
    public void BadValues_AreUsageErrors_NamingTheOption(string method, double? alpha, double smoothing, double prob, double? switchProb, string option)
    {
        var e = Assert.Throws<ZetaPrepException>(() => MixMethodOptions.Parse(method, alpha, smoothing, prob, switchProb));
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith(option + ":", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
