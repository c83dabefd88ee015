using ZetaPrep.Mixing;

namespace ZetaPrep.Planning;

/// <summary>Turns a batch's ζ recipes into the --method's recipes (mixup, CutMix, cutmix+zeta, originals), from the seed alone.</summary>
internal static class MethodPlanner
{
    /// <summary>Added to the pass id for the baselines' random stream ("MIXMETHO").</summary>
    internal const ulong StreamOffset = 0x4D49584D4554484FUL;

    /// <summary>Replaces each output's recipe in place; with the defaults (zeta, --prob 1) every ζ recipe is kept.</summary>
    public static void Apply(MixRecipe[] outputs, PlanOptions options, DeterministicRandom rng)
    {
        var method = options.Method;
        var m = outputs.Length;
        var zeta = (MixRecipe[])outputs.Clone();
        for (var k = 0; k < m; k++)
        {
            // Fixed draws per output (mixed?, switch?, partner, λ, centre) whatever the method, so outputs never shift.
            var mixed = rng.NextDouble() < method.Prob;
            var switchDraw = rng.NextDouble();
            // A partner other than k (MixPlan never makes a batch of one input from two or more).
            var partner = m > 1 ? rng.NextInt(m - 1) : k;
            partner += m > 1 && partner >= k ? 1 : 0;
            var kind = method.SwitchToCutMix && switchDraw < method.SwitchProb ? MixMethod.CutMix : method.Method;
            if (!mixed || kind == MixMethod.None)
            {
                outputs[k] = Original(k);
                continue;
            }
            switch (kind)
            {
                case MixMethod.Mixup:
                    outputs[k] = Mixup(k, partner, rng.NextBeta(method.MixupAlpha, method.MixupAlpha));
                    break;
                case MixMethod.CutMix:
                case MixMethod.CutMixZeta:
                    var lambda = rng.NextBeta(method.CutMixAlpha, method.CutMixAlpha);
                    var size = options.ImageSize;
                    var box = CutMixBox.For(lambda, size, rng.NextInt(size), rng.NextInt(size), partner, kind == MixMethod.CutMixZeta);
                    outputs[k] = kind == MixMethod.CutMix ? CutMix(k, box, size) : CutMixOnZeta(zeta[k], zeta[partner], box, size);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>The resized original: weight 1, γ 0.</summary>
    public static MixRecipe Original(int k) => new([k], [1.0], 0.0) { Method = MixMethod.None };

    /// <summary>
    /// Mixup of input k (weight λ) and its partner (1−λ); γ = log₂(w₁/w₂), the equivalent N = 2 ζ exponent. A draw of
    /// exactly 0 or 1 (weights [1, 0], which a Beta(α, α) with a small α gives now and then) would make γ infinite, which
    /// JSON cannot write: it is recorded as the largest float32, <see cref="float.MaxValue"/>, standing for ∞. So is a
    /// smaller weight that the float32 <c>weights</c> column stores as 0 (under ~1.4e-45): the row says [1, 0], and its γ agrees.
    /// </summary>
    public static MixRecipe Mixup(int k, int partner, double lambda)
    {
        var (members, weights) = ByWeight([k, partner], [lambda, 1.0 - lambda]);
        var gamma = (float)weights[1] > 0f ? Math.Log2(weights[0] / weights[1]) : float.MaxValue;
        return new MixRecipe(members, weights, gamma) { Method = MixMethod.Mixup, Lambda = lambda };
    }

    /// <summary>Image k with the partner's box pasted: λ = unpasted fraction (the area after clipping, timm's correct_lam).</summary>
    public static MixRecipe CutMix(int k, CutMixBox box, int size)
    {
        var lambda = 1.0 - (double)box.Area / ((double)size * size);
        var (members, weights) = ByWeight([k, box.Partner], [lambda, 1.0 - lambda]);
        return new MixRecipe(members, weights, 0.0)
        {
            Method = MixMethod.CutMix,
            Lambda = lambda,
            PixelMembers = [k],
            PixelWeights = [1.0],
            Box = box,
        };
    }

    /// <summary>ζ output k with a box of ζ output <paramref name="partner"/>: label (1−a)·ŷ_k + a·ŷ_partner for pasted fraction a.</summary>
    public static MixRecipe CutMixOnZeta(MixRecipe own, MixRecipe partner, CutMixBox box, int size)
    {
        var lambda = 1.0 - (double)box.Area / ((double)size * size);
        var members = new List<int>(own.Members);
        var weights = new List<double>(own.Weights.Select(w => w * lambda));
        for (var i = 0; i < partner.Members.Length; i++)
        {
            var at = members.IndexOf(partner.Members[i]);
            if (at < 0)
            {
                members.Add(partner.Members[i]);
                weights.Add(0.0);
                at = members.Count - 1;
            }
            weights[at] += (1.0 - lambda) * partner.Weights[i];
        }
        var (sorted, sortedWeights) = ByWeight([.. members], [.. weights]);
        return new MixRecipe(sorted, sortedWeights, own.Gamma)
        {
            Method = MixMethod.CutMixZeta,
            Lambda = lambda,
            PixelMembers = own.Members,
            PixelWeights = own.Weights,
            Box = box,
        };
    }

    /// <summary>Members by descending weight, stable, so ties keep the given order (input k first): Members[0] is the dominant sample.</summary>
    private static (int[] Members, double[] Weights) ByWeight(int[] members, double[] weights)
    {
        var order = Enumerable.Range(0, members.Length).OrderByDescending(i => weights[i]).ToArray();
        return (order.Select(i => members[i]).ToArray(), order.Select(i => weights[i]).ToArray());
    }
}
