using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ZetaPrep.Mixing;

/// <summary>
/// The CPU kernel for out = W @ X: each output row has only N non-zero weights (8 of 64 by default), so instead of
/// libtorch's dense GEMM it sums just those rows, SIMD-wide in float32, in ascending input order, then rounds half to
/// even and clamps — the same rule as <see cref="TorchMixer"/>, and exactly the arithmetic of the CUDA kernel
/// (<see cref="Cuda.CudaMixer"/>: same bytes on either device). Bytes may differ from
/// libtorch's only where a sum lies within float32 error of a .5 boundary. Stateless apart from its size limits, so one
/// instance may serve several threads.
/// </summary>
public sealed class SparseCpuMixer(int maxInputs, int pixelsPerImage) : IBatchMixer
{
    public string DeviceName => "cpu";

    public void Mix(ReadOnlySpan<byte> inputs, int inputCount, ReadOnlySpan<float> weights, int outputCount, Span<byte> output)
    {
        MixArguments.Check(inputs, inputCount, maxInputs, weights, outputCount, output, pixelsPerImage);
        var p = pixelsPerImage;
        // Non-zero (input, weight) pairs of every output row, in ascending input order.
        var offsets = new int[outputCount + 1];
        var members = new int[outputCount * inputCount];
        var memberWeights = new float[outputCount * inputCount];
        for (var k = 0; k < outputCount; k++)
        {
            var n = offsets[k];
            var row = weights.Slice(k * inputCount, inputCount);
            for (var j = 0; j < inputCount; j++)
            {
                if (row[j] != 0f)
                {
                    members[n] = j;
                    memberWeights[n++] = row[j];
                }
            }
            offsets[k + 1] = n;
        }
        // Pixel tiles outermost: a tile of every input (inputs × Tile bytes) stays in cache while all outputs use it.
        for (var start = 0; start < p; start += Tile)
        {
            var length = Math.Min(Tile, p - start);
            for (var k = 0; k < outputCount; k++)
            {
                var range = new Range(offsets[k], offsets[k + 1]);
                MixRow(inputs, p, start, length, members.AsSpan(range), memberWeights.AsSpan(range), output.Slice(k * p + start, length));
            }
        }
    }

    /// <summary>Pixels per tile: 32 inputs × 4 KiB = 128 KiB, within L2.</summary>
    private const int Tile = 4096;

    private static void MixRow(ReadOnlySpan<byte> inputs, int p, int start, int length, ReadOnlySpan<int> members, ReadOnlySpan<float> w, Span<byte> output)
    {
        if (Avx2.IsSupported)
        {
            MixRowAvx2(inputs, p, start, length, members, w, output);
            return;
        }
        var width = Vector<byte>.Count;
        var zero = Vector<float>.Zero;
        var max = new Vector<float>(255f);
        var i = 0;
        for (; i <= length - width; i += width)
        {
            Vector<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (var m = 0; m < members.Length; m++)
            {
                var bytes = new Vector<byte>(inputs.Slice(members[m] * p + start + i, width));
                Vector.Widen(bytes, out var lo, out var hi);
                Vector.Widen(lo, out var u0, out var u1);
                Vector.Widen(hi, out var u2, out var u3);
                var weight = new Vector<float>(w[m]);
                // Multiply then add (no fused multiply-add), exactly like the scalar tail below.
                a0 += weight * Vector.ConvertToSingle(u0);
                a1 += weight * Vector.ConvertToSingle(u1);
                a2 += weight * Vector.ConvertToSingle(u2);
                a3 += weight * Vector.ConvertToSingle(u3);
            }
            var r0 = Vector.ConvertToUInt32(Vector.Min(Vector.Max(Vector.Round(a0), zero), max));
            var r1 = Vector.ConvertToUInt32(Vector.Min(Vector.Max(Vector.Round(a1), zero), max));
            var r2 = Vector.ConvertToUInt32(Vector.Min(Vector.Max(Vector.Round(a2), zero), max));
            var r3 = Vector.ConvertToUInt32(Vector.Min(Vector.Max(Vector.Round(a3), zero), max));
            Vector.Narrow(Vector.Narrow(r0, r1), Vector.Narrow(r2, r3)).CopyTo(output.Slice(i, width));
        }
        MixTail(inputs, p, start, i, length, members, w, output);
    }

    /// <summary>8 pixels per step: zero-extending load of 8 bytes to int32, convert, multiply, add (no FMA, as the scalar tail).</summary>
    private static unsafe void MixRowAvx2(ReadOnlySpan<byte> inputs, int p, int start, int length, ReadOnlySpan<int> members, ReadOnlySpan<float> w, Span<byte> output)
    {
        var zero = Vector256<float>.Zero;
        var max = Vector256.Create(255f);
        var i = 0;
        fixed (byte* x = inputs)
        fixed (byte* y = output)
        {
            // 32 pixels per step in four independent sums: the adds of one pixel still run in member order (same
            // bytes as 8 at a time), but four dependency chains keep the FP adders busy.
            for (; i <= length - 32; i += 32)
            {
                Vector256<float> acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
                for (var m = 0; m < members.Length; m++)
                {
                    var src = x + ((long)members[m] * p) + start + i;
                    var weight = Vector256.Create(w[m]);
                    acc0 = Avx.Add(acc0, Avx.Multiply(weight, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src))));
                    acc1 = Avx.Add(acc1, Avx.Multiply(weight, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + 8))));
                    acc2 = Avx.Add(acc2, Avx.Multiply(weight, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + 16))));
                    acc3 = Avx.Add(acc3, Avx.Multiply(weight, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + 24))));
                }
                var i0 = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(acc0), zero), max));
                var i1 = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(acc1), zero), max));
                var i2 = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(acc2), zero), max));
                var i3 = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(acc3), zero), max));
                // int32 → int16 (values are 0..255 already) → uint8, 16 pixels per store.
                var s0 = Sse2.PackSignedSaturate(i0.GetLower(), i0.GetUpper());
                var s1 = Sse2.PackSignedSaturate(i1.GetLower(), i1.GetUpper());
                var s2 = Sse2.PackSignedSaturate(i2.GetLower(), i2.GetUpper());
                var s3 = Sse2.PackSignedSaturate(i3.GetLower(), i3.GetUpper());
                Sse2.Store(y + i, Sse2.PackUnsignedSaturate(s0, s1));
                Sse2.Store(y + i + 16, Sse2.PackUnsignedSaturate(s2, s3));
            }

            for (; i <= length - 8; i += 8)
            {
                var acc = zero;
                for (var m = 0; m < members.Length; m++)
                {
                    var pixels = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(x + (long)members[m] * p + start + i));
                    acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(w[m]), pixels));
                }
                var rounded = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(acc), zero), max);
                var ints = Avx.ConvertToVector256Int32(rounded);
                var shorts = Sse2.PackSignedSaturate(ints.GetLower(), ints.GetUpper());
                var bytes = Sse2.PackUnsignedSaturate(shorts, shorts);
                Sse2.StoreScalar((long*)(y + i), bytes.AsInt64());
            }
        }
        MixTail(inputs, p, start, i, length, members, w, output);
    }

    /// <summary>Pixels [<paramref name="from"/>, <paramref name="length"/>) one at a time, with the vector paths' arithmetic.</summary>
    private static void MixTail(ReadOnlySpan<byte> inputs, int p, int start, int from, int length, ReadOnlySpan<int> members, ReadOnlySpan<float> w, Span<byte> output)
    {
        for (var i = from; i < length; i++)
        {
            var acc = 0f;
            for (var m = 0; m < members.Length; m++)
            {
                acc += w[m] * inputs[members[m] * p + start + i];
            }
            output[i] = (byte)Math.Clamp(MathF.Round(acc, MidpointRounding.ToEven), 0f, 255f);
        }
    }

    public void Dispose()
    {
    }
}
