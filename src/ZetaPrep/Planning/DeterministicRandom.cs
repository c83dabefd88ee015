namespace ZetaPrep.Planning;

/// <summary>
/// xoshiro256** seeded through SplitMix64 from (seed, stream ids): a generator whose sequence is fixed by this
/// code alone, not by a runtime's <see cref="Random"/> implementation, so plans stay identical across .NET versions.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRandom(ulong seed, ulong streamA = 0, ulong streamB = 0)
    {
        var x = seed;
        x = SplitMix(ref x) ^ Mix(streamA + 0x632BE59BD9B4E019UL);
        x = SplitMix(ref x) ^ Mix(streamB + 0x8CB92BA72F3D8DD7UL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, bound) without modulo bias (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        var b = (ulong)bound;
        var threshold = (0UL - b) % b;
        while (true)
        {
            var x = NextUInt64();
            var high = Math.BigMul(x, b, out var low);
            if (low >= threshold)
            {
                return (int)high;
            }
        }
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Beta(a, b) as X/(X+Y) of two Gamma draws (Marsaglia–Tsang), in log space so tiny α cannot give 0/0.</summary>
    public double NextBeta(double a, double b)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(a);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(b);
        var logX = NextLogGamma(a);
        var logY = NextLogGamma(b);
        return 1.0 / (1.0 + Math.Exp(logY - logX));
    }

    /// <summary>Standard normal by Marsaglia's polar method.</summary>
    public double NextNormal()
    {
        while (true)
        {
            var u = 2.0 * NextDouble() - 1.0;
            var v = 2.0 * NextDouble() - 1.0;
            var s = u * u + v * v;
            if (s > 0 && s < 1)
            {
                return u * Math.Sqrt(-2.0 * Math.Log(s) / s);
            }
        }
    }

    /// <summary>log of a Gamma(shape, 1) draw; shape &lt; 1 uses G(a) = G(a+1)·U^(1/a) (Marsaglia–Tsang 2000, §6).</summary>
    private double NextLogGamma(double shape)
    {
        if (shape < 1)
        {
            return NextLogGamma(shape + 1) + Math.Log(1.0 - NextDouble()) / shape;
        }
        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextNormal();
                v = 1.0 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            var u = NextDouble();
            if (u < 1.0 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1.0 - v + Math.Log(v)))
            {
                return Math.Log(d * v);
            }
        }
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
