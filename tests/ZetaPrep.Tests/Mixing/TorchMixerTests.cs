using TorchSharp;
using ZetaPrep.Mixing;

namespace ZetaPrep.Tests.Mixing;

public sealed class TorchMixerTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 7 },
        { 2, 3, 5 },
        { 8, 8, 150 },
        { 5, 12, 224 * 3 },
        { 64, 64, 3 * 32 * 32 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Dyadic_weights_match_the_reference_exactly(int inputs, int outputs, int pixels)
    {
        // Weights k/256 (k in -64..511) times uint8 values need at most 22 significant bits, so every float32
        // partial sum is exact whatever the summation order: the result must equal the reference bit for bit,
        // including exact .5 ties (half to even) and clamping of out-of-range values.
        var random = new Random(inputs * 1000 + outputs);
        var x = RandomBytes(random, inputs * pixels);
        var w = new float[outputs * inputs];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = random.Next(-64, 512) / 256f;
        }

        Assert.Equal(Reference(x, inputs, w, outputs, pixels), Mix(x, inputs, w, outputs, pixels));
    }

    [Fact]
    public void Ties_round_half_to_even()
    {
        // 0.5·a + 0.5·b with a + b odd lands exactly on .5.
        byte[] x = [0, 1, 2, 3, 1, 2, 3, 4];
        float[] w = [0.5f, 0.5f];
        Assert.Equal(new byte[] { 0, 2, 2, 4 }, Mix(x, 2, w, 1, 4));
    }

    [Fact]
    public void Out_of_range_values_are_clamped()
    {
        byte[] x = [200, 10, 10, 100];
        float[] w = [2f, -3f];
        Assert.Equal(new byte[] { 255, 0 }, Mix(x, 2, w, 1, 2));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Convex_weights_match_the_reference_except_within_float_error_of_a_tie(int inputs, int outputs, int pixels)
    {
        // ζ-style rows: positive, summing to 1 (measured: for K = 64, 5 of 196,608 bytes differ by 1, all in the band). float32 accumulation of K products differs from the exact (double)
        // value by at most about K·2⁻²⁴·Σ|wᵢxᵢ| (Higham's γ_K bound); only where the exact value lies that close to
        // an x.5 boundary may the rounded byte differ, and then by exactly 1. We use 2·K·2⁻²⁴·Σ|wᵢxᵢ| for slack.
        var random = new Random(inputs * 7919 + outputs);
        var x = RandomBytes(random, inputs * pixels);
        var w = ConvexWeights(random, inputs, outputs);
        var actual = Mix(x, inputs, w, outputs, pixels);

        var nearTies = 0;
        for (var o = 0; o < outputs; o++)
        {
            for (var p = 0; p < pixels; p++)
            {
                double sum = 0, magnitude = 0;
                for (var i = 0; i < inputs; i++)
                {
                    var term = (double)w[(o * inputs) + i] * x[(i * pixels) + p];
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                var expected = RoundClamp(sum);
                var got = actual[(o * pixels) + p];
                var bound = 2.0 * inputs * Math.Pow(2, -24) * magnitude;
                if (Math.Abs(sum - Math.Floor(sum) - 0.5) <= bound)
                {
                    nearTies++;
                    Assert.InRange(got - expected, -1, 1);
                }
                else
                {
                    Assert.Equal(expected, got);
                }
            }
        }

        // The escape hatch must stay rare (the band is ~2·bound ≈ 0.2 % wide for K = 64), or the test would test nothing.
        Assert.True(nearTies <= Math.Max(2, outputs * pixels / 100), $"{nearTies} values near a tie");
    }

    [Fact]
    public void A_single_one_weight_reproduces_the_input()
    {
        const int Inputs = 6, Pixels = 300;
        var x = RandomBytes(new Random(1), Inputs * Pixels);
        var w = new float[Inputs * Inputs];
        for (var i = 0; i < Inputs; i++)
        {
            w[(i * Inputs) + i] = 1f;
        }

        Assert.Equal(x, Mix(x, Inputs, w, Inputs, Pixels));
    }

    [Fact]
    public void One_hot_rows_permute_the_inputs()
    {
        const int Inputs = 9, Pixels = 128;
        var random = new Random(2);
        var x = RandomBytes(random, Inputs * Pixels);
        var permutation = Enumerable.Range(0, Inputs).ToArray();
        random.Shuffle(permutation);
        var w = new float[Inputs * Inputs];
        for (var o = 0; o < Inputs; o++)
        {
            w[(o * Inputs) + permutation[o]] = 1f;
        }

        var output = Mix(x, Inputs, w, Inputs, Pixels);
        for (var o = 0; o < Inputs; o++)
        {
            Assert.Equal(x.AsSpan(permutation[o] * Pixels, Pixels).ToArray(), output.AsSpan(o * Pixels, Pixels).ToArray());
        }
    }

    [Fact]
    public void Reused_mixer_handles_fewer_inputs_and_more_outputs_than_allocated()
    {
        const int Pixels = 48;
        var random = new Random(3);
        using var mixer = new TorchMixer(torch.CPU, 4, Pixels);
        foreach (var (inputs, outputs) in new[] { (4, 4), (2, 3), (3, 10), (4, 1), (1, 6) })
        {
            var x = RandomBytes(random, inputs * Pixels);
            var w = ConvexWeights(random, inputs, outputs);
            for (var i = 0; i < w.Length; i++)
            {
                w[i] = MathF.Round(w[i] * 256) / 256; // dyadic: exact comparison holds
            }

            var output = new byte[outputs * Pixels];
            mixer.Mix(x, inputs, w, outputs, output);
            Assert.Equal(Reference(x, inputs, w, outputs, Pixels), output);
        }
    }

    [Fact]
    public void Result_is_identical_across_calls_and_intra_op_thread_counts()
    {
        const int Inputs = 64, Pixels = 224 * 224 * 3;
        var random = new Random(4);
        var x = RandomBytes(random, Inputs * Pixels);
        var w = ConvexWeights(random, Inputs, Inputs);
        var threads = torch.get_num_threads();
        try
        {
            using var mixer = new TorchMixer(torch.CPU, Inputs, Pixels);
            var outputs = new List<byte[]>();
            foreach (var count in new[] { 1, 2, 1, Math.Max(2, Environment.ProcessorCount) })
            {
                torch.set_num_threads(count);
                var output = new byte[Inputs * Pixels];
                mixer.Mix(x, Inputs, w, Inputs, output);
                outputs.Add(output);
            }

            Assert.All(outputs, o => Assert.Equal(outputs[0], o));
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    [Fact]
    public void Mixing_leaks_no_tensors()
    {
        const int Inputs = 8, Pixels = 64;
        var random = new Random(5);
        var x = RandomBytes(random, Inputs * Pixels);
        var w = ConvexWeights(random, Inputs, Inputs);
        var output = new byte[Inputs * Pixels];
        var stats = DisposeScopeManager.Statistics;

        var beforeCreate = stats.ThreadTotalLiveCount;
        using var mixer = new TorchMixer(torch.CPU, Inputs, Pixels);
        Assert.True(stats.ThreadTotalLiveCount > beforeCreate, "the statistic must see the mixer's own tensors");

        mixer.Mix(x, Inputs, w, Inputs, output);
        var before = stats.ThreadTotalLiveCount;
        for (var i = 0; i < 200; i++)
        {
            mixer.Mix(x, Inputs, w, Inputs, output);
        }

        Assert.Equal(before, stats.ThreadTotalLiveCount);
        mixer.Dispose();
        Assert.Equal(beforeCreate, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void Mixer_created_inside_a_dispose_scope_survives_it()
    {
        TorchMixer mixer;
        using (torch.NewDisposeScope())
        {
            mixer = new TorchMixer(torch.CPU, 2, 4);
        }

        using (mixer)
        {
            var output = new byte[4];
            mixer.Mix(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 2, [0f, 1f], 1, output);
            Assert.Equal(new byte[] { 5, 6, 7, 8 }, output);
            Assert.Equal("cpu", mixer.DeviceName);
        }
    }

    [Fact]
    public void Wrong_lengths_are_rejected()
    {
        using var mixer = new TorchMixer(torch.CPU, 2, 4);
        Assert.Throws<ArgumentException>(() => mixer.Mix(new byte[7], 2, new float[2], 1, new byte[4]));
        Assert.Throws<ArgumentException>(() => mixer.Mix(new byte[8], 2, new float[3], 1, new byte[4]));
        Assert.Throws<ArgumentException>(() => mixer.Mix(new byte[8], 2, new float[2], 1, new byte[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => mixer.Mix(new byte[12], 3, new float[3], 1, new byte[4]));
    }

    private static byte[] Mix(byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        using var mixer = new TorchMixer(torch.CPU, inputs, pixels);
        var output = new byte[outputs * pixels];
        mixer.Mix(x, inputs, w, outputs, output);
        return output;
    }

    private static byte[] Reference(byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        var result = new byte[outputs * pixels];
        for (var o = 0; o < outputs; o++)
        {
            for (var p = 0; p < pixels; p++)
            {
                double sum = 0;
                for (var i = 0; i < inputs; i++)
                {
                    sum += (double)w[(o * inputs) + i] * x[(i * pixels) + p];
                }

                result[(o * pixels) + p] = RoundClamp(sum);
            }
        }

        return result;
    }

    private static byte RoundClamp(double value) => (byte)Math.Clamp(Math.Round(value, MidpointRounding.ToEven), 0, 255);

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static float[] ConvexWeights(Random random, int inputs, int outputs)
    {
        var w = new float[outputs * inputs];
        for (var o = 0; o < outputs; o++)
        {
            double total = 0;
            var row = new double[inputs];
            for (var i = 0; i < inputs; i++)
            {
                row[i] = Math.Pow(i + 1, -2.8) * (0.5 + random.NextDouble());
                total += row[i];
            }

            for (var i = 0; i < inputs; i++)
            {
                w[(o * inputs) + i] = (float)(row[i] / total);
            }
        }

        return w;
    }
}
