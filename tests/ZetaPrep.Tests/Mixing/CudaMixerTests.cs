using System.Text.RegularExpressions;
using ZetaPrep.Mixing;
using ZetaPrep.Mixing.Cuda;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Mixing;

/// <summary>
/// The CUDA mixer. Without a GPU (CI) these check what can be checked without one: the unavailable path, and the PTX
/// the driver would compile (declared registers, labels, the exact CPU arithmetic). On a GPU machine the first test
/// compares bytes with the CPU kernel; bench/gpu/device_check.sh does that at scale.
/// </summary>
public sealed partial class CudaMixerTests
{
    [Fact]
    public void Without_a_driver_TryCreate_says_why_and_with_one_it_writes_the_CPU_kernels_bytes()
    {
        const int Batch = 16, Pixels = 12 * 12 * 3;
        using var mixer = CudaMixer.TryCreate(Batch, Pixels, out var why);
        if (mixer is null)
        {
            Assert.False(CudaMixer.IsAvailable(out var again));
            Assert.Equal(why, again);
            Assert.Matches("libcuda\\.so\\.1|no CUDA device|failed", why);
            Assert.Null(CudaMixer.Describe());
            return;
        }

        var x = new byte[Batch * Pixels];
        new Random(5).NextBytes(x);
        var batch = MixPlan.Create(Batch, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), Batch, seed: 9)).Batches[0];
        // The formula's float32 weights (the float kernels), then the pipeline's (the integer kernel where it loaded).
        foreach (var (w, integer) in new[] { (batch.WeightMatrix(), false), (batch.PixelWeightMatrix(), CudaMixer.QuantizedUnavailable is null) })
        {
            var cpu = new byte[x.Length];
            new SparseCpuMixer(Batch, Pixels).Mix(x, Batch, w, Batch, cpu);
            var gpu = new byte[x.Length];
            mixer.Mix(x, Batch, w, Batch, gpu);
            Assert.Equal(cpu, gpu);
            Assert.Equal(integer, CudaMixer.IsInteger(mixer.Kernel));
        }
    }

    [Fact]
    public void The_PTX_declares_every_register_and_label_it_uses()
    {
        foreach (var (name, body) in Entries())
        {
            var declared = new Dictionary<string, int>();
            foreach (Match m in RegDeclaration().Matches(body))
            {
                foreach (var part in m.Groups[1].Value.Split(','))
                {
                    var d = DeclaredName().Match(part.Trim());
                    declared[d.Groups[1].Value] = d.Groups[2].Success ? int.Parse(d.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
                }
            }

            var instructions = string.Join('\n', body.Split('\n').Where(l => !l.TrimStart().StartsWith(".reg", StringComparison.Ordinal)));
            foreach (Match use in RegisterUse().Matches(instructions))
            {
                var reg = use.Groups[1].Value;
                if (reg is "ctaid" or "nctaid" or "ntid" or "tid")
                {
                    continue;
                }

                Assert.True(declared.TryGetValue(reg, out var count), $"{name}: %{reg}{use.Groups[2].Value} is not declared");
                if (use.Groups[2].Value.Length > 0)
                {
                    Assert.True(int.Parse(use.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) < count, $"{name}: %{reg}{use.Groups[2].Value} is outside %{reg}<{count}>");
                }
                else
                {
                    Assert.Equal(-1, count);
                }
            }

            foreach (Match jump in Branch().Matches(body))
            {
                Assert.Contains($"\n{jump.Groups[1].Value}:", body, StringComparison.Ordinal);
            }

            // Every instruction line ends with a semicolon; labels end with a colon; a performance directive (.maxntid,
            // between the parameters and the body) is the entry's, without one.
            foreach (var line in body.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith(".param", StringComparison.Ordinal)
                && !l.StartsWith(".maxntid ", StringComparison.Ordinal) && l is not "{" and not "}"))
            {
                Assert.True(line.EndsWith(';') || line.EndsWith(':') || line.EndsWith('(') || line.EndsWith(','), $"{name}: '{line}'");
            }
        }
    }

    [Fact]
    public void The_exact_kernels_round_every_product_and_sum_like_the_CPU_kernel()
    {
        foreach (var (name, body) in Entries())
        {
            if (name == MixKernelPtx.Vector16Fma)
            {
                Assert.Contains("fma.rn.f32", body, StringComparison.Ordinal);
                continue;
            }

            if (name == MixKernelPtx.Scaled16 || CudaMixer.IsInteger(name))
            {
                continue; // their own tests (below; QuantizedKernelTests)
            }

            // mul.rn/add.rn may not be contracted into an FMA by ptxas; plain mul.f32/add.f32 may (different bytes).
            Assert.Contains("mul.rn.f32", body, StringComparison.Ordinal);
            Assert.Contains("add.rn.f32", body, StringComparison.Ordinal);
            Assert.DoesNotContain("fma", body, StringComparison.Ordinal);
            Assert.DoesNotMatch("\\b(mul|add|sub)\\.f32", body);
            Assert.Contains("cvt.rni.f32.f32", body, StringComparison.Ordinal); // round half to even, like MathF.Round
        }

        // The kernels widen a byte b by reading the float with bits 0x4B000000 | b (2^23 + b) and subtracting 2^23.
        for (var b = 0; b < 256; b++)
        {
            Assert.Equal(b, BitConverter.Int32BitsToSingle(0x4B000000 | b) - 8388608f);
        }
    }

    [Fact]
    public void The_scaled_kernel_is_exact_except_for_the_rounding_step_and_never_flushes_subnormals()
    {
        foreach (var (name, body) in Entries().Where(e => e.Name == MixKernelPtx.Scaled16))
        {
            Assert.Contains("mul.rn.f32", body, StringComparison.Ordinal);
            Assert.Contains("add.rn.f32", body, StringComparison.Ordinal);
            Assert.DoesNotMatch("\\b(mul|add|sub|fma)\\.f32", body);
            Assert.DoesNotContain(".ftz", body, StringComparison.Ordinal);
            var fmas = body.Split('\n').Where(l => l.Contains("fma", StringComparison.Ordinal)).ToList();
            Assert.Equal(MixKernelPtx.BytesPerThread(name), fmas.Count);
            Assert.All(fmas, l => Assert.Matches("^    fma\\.rn\\.f32 %acc\\d+, %t, 0f4B000000, 0f4B000000;$", l));
        }
    }

    [Fact]
    public void The_scaled_kernel_takes_zero_and_weights_from_2_to_the_minus_100_up_to_1()
    {
        Assert.Equal(MixKernelPtx.MinScaledWeight, MathF.ScaleB(1f, -100));
        Assert.True(MixKernelPtx.AllowsScaled(0f));
        Assert.True(MixKernelPtx.AllowsScaled(1f));
        Assert.True(MixKernelPtx.AllowsScaled(0.37f));
        Assert.True(MixKernelPtx.AllowsScaled(MixKernelPtx.MinScaledWeight));
        Assert.False(MixKernelPtx.AllowsScaled(MathF.BitDecrement(MixKernelPtx.MinScaledWeight)));
        Assert.False(MixKernelPtx.AllowsScaled(MathF.BitIncrement(1f)));
        Assert.False(MixKernelPtx.AllowsScaled(-0.25f));
        Assert.False(MixKernelPtx.AllowsScaled(float.NaN));
        Assert.Equal(16, MixKernelPtx.BytesPerThread(MixKernelPtx.Scaled16));
        Assert.Equal(16, MixKernelPtx.BytesPerThread(MixKernelPtx.Vector16));
        Assert.Equal(1, MixKernelPtx.BytesPerThread(MixKernelPtx.Scalar));
    }

    /// <summary>
    /// The scaled kernels' arithmetic, instruction for instruction in C# (a byte masked in its word read as a subnormal
    /// float, the weight times 2^(126−8k), mul.rn/add.rn, min, fma, the low byte), against the CPU kernel on ζ batches
    /// (γ from plain-mixup-like to steep, N from 2 to the batch) and on hand-made sums: exact .5 ties, sums just over 255,
    /// the smallest weight allowed. The GPU run (bench/gpu/device_check.sh) checks the PTX itself the same way.
    /// </summary>
    [Theory]
    [InlineData(32, 8, 2.8, 1)]
    [InlineData(32, 32, 2.8, 2)]
    [InlineData(64, 2, 0.5, 3)]
    [InlineData(16, 16, 12.0, 4)]
    [InlineData(256, 8, 1.72865, 5)]
    public void The_scaled_arithmetic_gives_the_CPU_kernels_bytes_on_zeta_batches(int batch, int n, double gamma, int seed)
    {
        const int Pixels = 16 * 16 * 3;
        var x = new byte[batch * Pixels];
        new Random(seed).NextBytes(x);
        var w = MixPlan.Create(batch, new PlanOptions(MixCount.Of(n), GammaSpec.Fixed(gamma), batch, seed: (ulong)seed)).Batches[0].WeightMatrix();
        Assert.All(w, v => Assert.True(MixKernelPtx.AllowsScaled(v)));
        AssertScaledMatchesCpu(x, batch, w, batch, Pixels);
    }

    [Fact]
    public void The_scaled_arithmetic_rounds_ties_to_even_clamps_at_255_and_keeps_the_smallest_weights()
    {
        const int Pixels = 32;
        var x = new byte[4 * Pixels];
        for (var i = 0; i < Pixels; i++)
        {
            x[i] = (byte)(8 * i);              // input 0
            x[Pixels + i] = (byte)((8 * i) + 1); // input 1: halves of 0 and 1 are ties: 8i + 0.5
            x[(2 * Pixels) + i] = 255;
            x[(3 * Pixels) + i] = (byte)(i % 2);
        }

        var tiny = MixKernelPtx.MinScaledWeight;
        var weights = new float[]
        {
            0.5f, 0.5f, 0f, 0f,                                   // exact ties, rounded to even
            0f, 0f, MathF.BitIncrement(0.5f), 0.5f,               // 255·(0.5+ε) + 0.5·(0|1): just above 127.5, and 128
            0.25f, 0f, MathF.BitIncrement(0.75f), 0f,             // over 255·0.75: sums past .5 marks
            0f, 0f, 1f, 0f,                                       // one member, weight 1
            1f - tiny, 0f, 0f, tiny,                              // the smallest allowed weight
            0f, 0f, 0.6f, 0.6f,                                   // 153 + (0|0.6) and the clamp when weights add past 1
        };
        Assert.All(weights, v => Assert.True(MixKernelPtx.AllowsScaled(v)));
        AssertScaledMatchesCpu(x, 4, weights, 6, Pixels);
    }

    private static void AssertScaledMatchesCpu(byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        var cpu = new byte[outputs * pixels];
        new SparseCpuMixer(inputs, pixels).Mix(x, inputs, w, outputs, cpu);
        var scaled = ScaledKernel(x, inputs, w, outputs, pixels);
        for (var i = 0; i < cpu.Length; i++)
        {
            Assert.True(cpu[i] == scaled[i], $"byte {i} (output {i / pixels}, pixel byte {i % pixels}): CPU {cpu[i]}, scaled {scaled[i]}");
        }
    }

    /// <summary>The scaled kernels' instructions, one thread's word at a time (pixels % 4 == 0).</summary>
    private static byte[] ScaledKernel(byte[] x, int inputs, float[] w, int outputs, int pixels)
    {
        var y = new byte[outputs * pixels];
        var scales = new[] { 0x7E800000, 0x7A800000, 0x76800000, 0x7E800000 }.Select(BitConverter.Int32BitsToSingle).ToArray();
        for (var k = 0; k < outputs; k++)
        {
            var members = Enumerable.Range(0, inputs).Where(j => w[(k * inputs) + j] != 0f).ToArray();
            for (var word = 0; word < pixels; word += 4)
            {
                var acc = new float[4];
                for (var m = 0; m < members.Length; m++)
                {
                    var v = BitConverter.ToUInt32(x, (members[m] * pixels) + word);
                    var weight = w[(k * inputs) + members[m]];
                    for (var b = 0; b < 4; b++)
                    {
                        var e = b < 3 ? v & (0xFFu << (8 * b)) : v >> 24;
                        var product = BitConverter.Int32BitsToSingle((int)e) * (weight * scales[b]);
                        acc[b] = m == 0 ? product : acc[b] + product;
                    }
                }

                for (var b = 0; b < 4; b++)
                {
                    var t = MathF.Min(acc[b], BitConverter.Int32BitsToSingle(0x37FF0000));
                    var r = MathF.FusedMultiplyAdd(t, 8388608f, 8388608f);
                    y[(k * pixels) + word + b] = (byte)(BitConverter.SingleToInt32Bits(r) & 0xFF);
                }
            }
        }

        return y;
    }

    /// <summary>Name and body of each <c>.entry</c> in the module.</summary>
    /// <summary>Every entry of the four modules (the float kernels, zeta_mix16q, the pair kernel, the resident kernel).</summary>
    private static IEnumerable<(string Name, string Body)> Entries()
    {
        var modules = new (string Source, IReadOnlyList<string> Names)[]
        {
            (MixKernelPtx.Source, MixKernelPtx.Kernels),
            (QuantizedKernelPtx.Source, [QuantizedKernelPtx.Name]),
            (PairKernelPtx.Source, [PairKernelPtx.Name]),
            (ResidentKernelPtx.Source, [ResidentKernelPtx.Name]),
        };
        foreach (var (source, names) in modules)
        {
            Assert.StartsWith(".version 7.0", source, StringComparison.Ordinal);
            foreach (var name in names)
            {
                var start = source.IndexOf($".visible .entry {name}(", StringComparison.Ordinal);
                Assert.True(start >= 0, name);
                var end = source.IndexOf("\n}\n", start, StringComparison.Ordinal);
                yield return (name, source[start..(end + 3)]);
            }

            Assert.Equal(names.Count, Regex.Count(source, "\\.entry "));
        }
    }

    [GeneratedRegex(@"\.reg \.\w+ ([^;]+);")]
    private static partial Regex RegDeclaration();

    [GeneratedRegex(@"^%([a-z]+)(?:<(\d+)>)?$")]
    private static partial Regex DeclaredName();

    [GeneratedRegex(@"%([a-z]+)(\d*)\b")]
    private static partial Regex RegisterUse();

    [GeneratedRegex(@"bra (\w+);")]
    private static partial Regex Branch();
}
