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
        var w = MixPlan.Create(Batch, new PlanOptions(MixCount.Of(8), GammaSpec.Fixed(2.8), Batch, seed: 9)).Batches[0].WeightMatrix();
        var cpu = new byte[x.Length];
        new SparseCpuMixer(Batch, Pixels).Mix(x, Batch, w, Batch, cpu);
        var gpu = new byte[x.Length];
        mixer.Mix(x, Batch, w, Batch, gpu);
        Assert.Equal(cpu, gpu);
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
                if (reg is "ctaid" or "ntid" or "tid")
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

            // Every instruction line ends with a semicolon; labels end with a colon.
            foreach (var line in body.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith(".param", StringComparison.Ordinal) && l is not "{" and not "}"))
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

    /// <summary>Name and body of each <c>.entry</c> in the module.</summary>
    private static IEnumerable<(string Name, string Body)> Entries()
    {
        var source = MixKernelPtx.Source;
        Assert.StartsWith(".version 7.0", source, StringComparison.Ordinal);
        var names = new[] { MixKernelPtx.Vector16, MixKernelPtx.Scalar, MixKernelPtx.Vector16Fma };
        foreach (var name in names)
        {
            var start = source.IndexOf($".visible .entry {name}(", StringComparison.Ordinal);
            Assert.True(start >= 0, name);
            var end = source.IndexOf("\n}\n", start, StringComparison.Ordinal);
            yield return (name, source[start..(end + 3)]);
        }

        Assert.Equal(names.Length, Regex.Count(source, "\\.entry "));
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
