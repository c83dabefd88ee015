using ZetaPrep.Mixing;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Mixing;

public sealed class SparseCpuMixerTests
{
    /// <summary>Random sparse weights (n non-zeros per row, summing to 1) and random pixels.</summary>
    private static (byte[] X, float[] W) Batch(int m, int pixels, int n, ulong seed, bool dyadic = false)
    {
        var rng = new DeterministicRandom(seed);
        var x = new byte[m * pixels];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (byte)rng.NextInt(256);
        }
        var w = new float[m * m];
        for (var k = 0; k < m; k++)
        {
            var order = Enumerable.Range(0, m).ToArray();
            rng.Shuffle(order);
            var raw = Enumerable.Range(0, n).Select(_ => dyadic ? 1 + rng.NextInt(16) : rng.NextDouble() + 0.01).ToArray();
            var sum = raw.Sum();
            for (var r = 0; r < n; r++)
            {
                // Dyadic weights (multiples of 1/256) keep every float32 sum exact.
                w[k * m + order[r]] = dyadic ? (float)(Math.Round(raw[r] / sum * 256) / 256) : (float)(raw[r] / sum);
            }
        }
        return (x, w);
    }

    private static double Exact(byte[] x, float[] w, int m, int pixels, int k, int i)
    {
        var acc = 0.0;
        for (var j = 0; j < m; j++)
        {
            acc += (double)w[k * m + j] * x[j * pixels + i];
        }
        return acc;
    }

    [Theory]
    [InlineData(8, 75, 3)]      // pixel count not a multiple of the SIMD width: scalar tail
    [InlineData(32, 3 * 24 * 24, 8)]
    [InlineData(5, 1, 5)]
    [InlineData(64, 3 * 20 * 20, 64)]
    public void DyadicWeights_GiveExactlyTheRoundedExactSum(int m, int pixels, int n)
    {
        var (x, w) = Batch(m, pixels, n, (ulong)(m * 1000 + pixels), dyadic: true);
        var y = new byte[m * pixels];
        new SparseCpuMixer(m, pixels).Mix(x, m, w, m, y);
        for (var k = 0; k < m; k++)
        {
            for (var i = 0; i < pixels; i++)
            {
                var expected = (byte)Math.Clamp(Math.Round(Exact(x, w, m, pixels, k, i), MidpointRounding.ToEven), 0, 255);
                Assert.Equal(expected, y[k * pixels + i]);
            }
        }
    }

    /// <summary>
    /// The arithmetic every mixer promises (and the CUDA kernel runs): per pixel, members in ascending input order,
    /// float32 multiply then add from 0, rounded half to even and clamped.
    /// </summary>
    private static byte Float32Reference(byte[] x, float[] w, int m, int pixels, int k, int i)
    {
        var acc = 0f;
        for (var j = 0; j < m; j++)
        {
            var weight = w[k * m + j];
            if (weight != 0f)
            {
                var product = weight * x[j * pixels + i];
                acc += product;
            }
        }
        return (byte)Math.Clamp(MathF.Round(acc, MidpointRounding.ToEven), 0f, 255f);
    }

    [Theory]
    [InlineData(32, 3 * 224 * 224, 8)] // a 224² batch: many pixel tiles, the last one partial
    [InlineData(32, 4096, 8)]          // exactly one byte tile, four float tiles (the AVX2 path's)
    [InlineData(7, 4096 + 33, 3)]      // a second, partial tile ending in a scalar tail
    [InlineData(32, 1024, 8)]          // exactly one float tile
    [InlineData(5, 1024 + 64 + 8 + 3, 4)] // a float tile, then one 64-pixel step, one 8-pixel step and a scalar tail
    [InlineData(3, 5, 2)]              // less than one vector
    public void ZetaWeights_GiveExactlyTheFloat32SumOfMembersInOrder(int m, int pixels, int n)
    {
        var plan = MixPlan.Create(m, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(2.8), m));
        var w = plan.Batches[0].WeightMatrix();
        var (x, _) = Batch(m, pixels, n, (ulong)(7 * pixels + m));
        var y = new byte[m * pixels];
        new SparseCpuMixer(m, pixels).Mix(x, m, w, m, y);
        for (var k = 0; k < m; k++)
        {
            for (var i = 0; i < pixels; i++)
            {
                if (y[k * pixels + i] != Float32Reference(x, w, m, pixels, k, i))
                {
                    Assert.Fail($"output {k} pixel {i}: {y[k * pixels + i]}, expected {Float32Reference(x, w, m, pixels, k, i)}");
                }
            }
        }
    }

    [Theory]
    [InlineData(32, 3 * 224 * 224, 8)]
    [InlineData(7, 4096 + 33, 3)]
    [InlineData(5, 1024 + 64 + 8 + 3, 4)]
    [InlineData(3, 5, 2)]
    [InlineData(64, 3 * 20 * 20, 64)]
    public void InPlace_GivesTheBytesOfASeparateOutput_AndShiftedOverlapsMixFromACopy(int m, int pixels, int n)
    {
        var plan = MixPlan.Create(m, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(2.8), m));
        var w = plan.Batches[0].WeightMatrix();
        var (x, _) = Batch(m, pixels, n, (ulong)(11 * pixels + m));
        var mixer = new SparseCpuMixer(m, pixels);
        var expected = new byte[m * pixels];
        mixer.Mix(x, m, w, m, expected);

        // The pipeline's use: outputs over the inputs (the AVX2 kernel's promise, MixesInPlace).
        var same = (byte[])x.Clone();
        mixer.Mix(same, m, w, m, same);
        Assert.Equal(expected, same);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, mixer.MixesInPlace);

        // Outputs overlapping the inputs one pixel row further on (or back) cannot be mixed in place: a copy is.
        foreach (var shift in new[] { 1, -1, pixels / 2 + 1 })
        {
            var buffer = new byte[m * pixels + Math.Abs(shift)];
            var inputsAt = shift > 0 ? 0 : -shift;
            x.CopyTo(buffer, inputsAt);
            mixer.Mix(buffer.AsSpan(inputsAt, m * pixels), m, w, m, buffer.AsSpan(inputsAt + shift, m * pixels));
            Assert.True(buffer.AsSpan(inputsAt + shift, m * pixels).SequenceEqual(expected), $"shift {shift}");
        }
    }

    [Fact]
    public void ZetaWeights_MatchTheExactSum_ExceptWithinFloatErrorOfAHalf_AndMatchLibtorch()
    {
        const int m = 32, pixels = 3 * 28 * 28;
        var plan = MixPlan.Create(m, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), m));
        var w = plan.Batches[0].WeightMatrix();
        var (x, _) = Batch(m, pixels, 8, 99);
        var sparse = new byte[m * pixels];
        var dense = new byte[m * pixels];
        new SparseCpuMixer(m, pixels).Mix(x, m, w, m, sparse);
        using (var torchMixer = new TorchMixer(TorchRuntime.ResolveDevice(DeviceChoice.Cpu), m, pixels))
        {
            torchMixer.Mix(x, m, w, m, dense);
        }
        var differences = 0;
        for (var k = 0; k < m; k++)
        {
            for (var i = 0; i < pixels; i++)
            {
                var exact = Exact(x, w, m, pixels, k, i);
                var nearHalf = Math.Abs(exact - Math.Floor(exact) - 0.5) < 1e-3;
                var expected = (byte)Math.Round(exact, MidpointRounding.ToEven);
                if (!nearHalf)
                {
                    Assert.Equal(expected, sparse[k * pixels + i]);
                    Assert.Equal(expected, dense[k * pixels + i]);
                }
                differences += sparse[k * pixels + i] != dense[k * pixels + i] ? 1 : 0;
            }
        }
        Assert.True(differences < m * pixels / 1000, $"{differences} bytes differ from libtorch");
    }

    [Fact]
    public void FewerOutputsThanInputs_AndInputsNoOutputUses_GiveTheFloat32Sum()
    {
        const int m = 6, outputs = 3, pixels = 1024 + 77;
        var (x, _) = Batch(m, pixels, 1, 11);
        // Only inputs 0, 2 and 5 are members of any output; 1, 3 and 4 are never read. Output 2 has a single member.
        var w = new float[outputs * m];
        w[0 * m + 0] = 0.7f;
        w[0 * m + 5] = 0.3f;
        w[1 * m + 2] = 0.55f;
        w[1 * m + 0] = 0.25f;
        w[1 * m + 5] = 0.2f;
        w[2 * m + 2] = 1f;
        var y = new byte[outputs * pixels];
        new SparseCpuMixer(m, pixels).Mix(x, m, w, outputs, y);
        for (var k = 0; k < outputs; k++)
        {
            for (var i = 0; i < pixels; i++)
            {
                Assert.Equal(Float32Reference(x, w, m, pixels, k, i), y[k * pixels + i]);
            }
        }
        Assert.Equal(x.AsSpan(2 * pixels, pixels).ToArray(), y.AsSpan(2 * pixels, pixels).ToArray());
    }

    [Fact]
    public void IdentityAndPermutationWeights_CopyInputs_AndRepeatedCallsAgree()
    {
        const int m = 6, pixels = 97;
        var (x, _) = Batch(m, pixels, 1, 5);
        var w = new float[m * m];
        for (var k = 0; k < m; k++)
        {
            w[k * m + (k + 2) % m] = 1f;
        }
        var mixer = new SparseCpuMixer(m, pixels);
        var y = new byte[m * pixels];
        mixer.Mix(x, m, w, m, y);
        for (var k = 0; k < m; k++)
        {
            Assert.Equal(x.AsSpan(((k + 2) % m) * pixels, pixels).ToArray(), y.AsSpan(k * pixels, pixels).ToArray());
        }
        var again = new byte[m * pixels];
        Parallel.For(0, 4, _ => mixer.Mix(x, m, w, m, again));
        Assert.Equal(y, again);
    }

    [Fact]
    public void WrongSizes_AreProgrammingErrors()
    {
        var mixer = new SparseCpuMixer(4, 10);
        Assert.Throws<ArgumentException>(() => mixer.Mix(new byte[39], 4, new float[16], 4, new byte[40]));
        Assert.Throws<ArgumentException>(() => mixer.Mix(new byte[40], 4, new float[15], 4, new byte[40]));
        Assert.Throws<ArgumentOutOfRangeException>(() => mixer.Mix(new byte[50], 5, new float[25], 5, new byte[50]));
    }
}
