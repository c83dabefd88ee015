namespace ZetaPrep.Mixing;

/// <summary>ζ-mixup weights (Abhishek, Brown, Hamarneh, MIDL 2023): wᵢ = sᵢ^(−γ) / Σⱼ₌₁..N j^(−γ) for ranks s.</summary>
public static class ZetaWeights
{
    private static readonly Lazy<double> GammaMinValue = new(ComputeGammaMin);

    /// <summary>γ_min: the γ with ζ(γ) = 2, above which the rank-1 weight exceeds all others together for every N (≈ 1.72865).</summary>
    public static double GammaMin => GammaMinValue.Value;

    /// <summary>The normaliser Σⱼ₌₁..N j^(−γ).</summary>
    public static double Normalizer(int n, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        // Summed from the smallest term up so the result is as exact as double allows.
        var sum = 0.0;
        for (var j = n; j >= 1; j--)
        {
            sum += Math.Pow(j, -gamma);
        }
        return sum;
    }

    /// <summary>The weight of the sample with rank <paramref name="rank"/> (1 = dominant) among N.</summary>
    public static double Weight(int rank, int n, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rank, n);
        return Math.Pow(rank, -gamma) / Normalizer(n, gamma);
    }

    /// <summary>Writes the weight of each rank 1..N into <paramref name="weights"/> (length N), in rank order.</summary>
    public static void ForRanks(double gamma, Span<double> weights)
    {
        var n = weights.Length;
        var norm = Normalizer(n, gamma);
        for (var r = 1; r <= n; r++)
        {
            weights[r - 1] = Math.Pow(r, -gamma) / norm;
        }
    }

    /// <summary>The γ for which N = 2 ζ-mixup equals mixup with λ (0.5 &lt; λ &lt; 1): γ = log₂(λ/(1−λ)).</summary>
    public static double GammaForMixupLambda(double lambda)
    {
        if (!(lambda > 0.5 && lambda < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must lie in (0.5, 1).");
        }
        return Math.Log2(lambda / (1.0 - lambda));
    }

    /// <summary>Riemann ζ(s) for s &gt; 1 by Euler–Maclaurin summation (error far below 1e-12 for s ≥ 1.05).</summary>
    public static double RiemannZeta(double s)
    {
        if (!(s > 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(s), s, "ζ(s) diverges for s ≤ 1.");
        }
        const int M = 64;
        var sum = 0.0;
        for (var j = M - 1; j >= 1; j--)
        {
            sum += Math.Pow(j, -s);
        }
        // Tail Σ_{j≥M} j^-s ≈ ∫_M^∞ + f(M)/2 − Σ B₂ₖ/(2k)! f^(2k−1)(M).
        var m = (double)M;
        var tail = Math.Pow(m, 1 - s) / (s - 1) + 0.5 * Math.Pow(m, -s)
            + s / 12.0 * Math.Pow(m, -s - 1)
            - s * (s + 1) * (s + 2) / 720.0 * Math.Pow(m, -s - 3)
            + s * (s + 1) * (s + 2) * (s + 3) * (s + 4) / 30240.0 * Math.Pow(m, -s - 5);
        return sum + tail;
    }

    private static double ComputeGammaMin()
    {
        // ζ is strictly decreasing on (1, ∞): bisect ζ(γ) = 2 on [1.1, 4] (ζ(1.1) ≈ 10.6, ζ(4) ≈ 1.08).
        double lo = 1.1, hi = 4.0;
        for (var i = 0; i < 200 && hi - lo > 1e-15; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (RiemannZeta(mid) > 2.0)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        return 0.5 * (lo + hi);
    }
}
