using System.Buffers;
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

    /// <summary>
    /// True with AVX2: the tiled kernel converts a tile of every input to float32 before it writes any output's bytes of
    /// that tile, so outputs may overwrite the inputs. Without AVX2 an overlapping call first copies the inputs.
    /// </summary>
    public bool MixesInPlace => Avx2.IsSupported;

    public void Mix(ReadOnlySpan<byte> inputs, int inputCount, ReadOnlySpan<float> weights, int outputCount, Span<byte> output)
    {
        MixArguments.Check(inputs, inputCount, maxInputs, weights, outputCount, output, pixelsPerImage);
        // The AVX2 kernel may write over its own inputs (see MixesInPlace); any other overlap mixes from a copy.
        if (inputs.Overlaps(output, out var shift) && (shift != 0 || !Avx2.IsSupported))
        {
            var copy = ArrayPool<byte>.Shared.Rent(inputs.Length);
            try
            {
                inputs.CopyTo(copy);
                Mix(copy.AsSpan(0, inputs.Length), inputCount, weights, outputCount, output);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
            return;
        }
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
        if (Avx2.IsSupported)
        {
            MixTiledAvx2(inputs, inputCount, p, offsets, members, memberWeights, outputCount, output);
            return;
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

    /// <summary>Pixels per tile of the AVX2 path, whose tile is float32: 32 inputs × 1024 × 4 bytes = 128 KiB, within L2.</summary>
    private const int FloatTile = 1024;

    /// <summary>
    /// The AVX2 kernel: each pixel tile of every input that some output uses is converted to float32 once (exact for
    /// bytes), and every output then sums its members from there. An input is a member of ~N outputs, so this converts
    /// each byte once instead of N times; the multiplies and adds, and their order, are those of
    /// <see cref="MixTail"/>, so the bytes are the same.
    /// </summary>
    private static unsafe void MixTiledAvx2(ReadOnlySpan<byte> inputs, int inputCount, int p, int[] offsets, int[] members, float[] memberWeights, int outputCount, Span<byte> output)
    {
        var used = new bool[inputCount];
        foreach (var j in members.AsSpan(0, offsets[outputCount]))
        {
            used[j] = true;
        }
        var tile = ArrayPool<float>.Shared.Rent(inputCount * FloatTile);
        try
        {
            fixed (byte* x = inputs)
            fixed (byte* y = output)
            fixed (float* f = tile)
            {
                for (var start = 0; start < p; start += FloatTile)
                {
                    var length = Math.Min(FloatTile, p - start);
                    for (var j = 0; j < inputCount; j++)
                    {
                        if (used[j])
                        {
                            ToFloats(x + (long)j * p + start, f + j * FloatTile, length);
                        }
                    }
                    for (var k = 0; k < outputCount; k++)
                    {
                        var range = new Range(offsets[k], offsets[k + 1]);
                        MixTileAvx2(f, members.AsSpan(range), memberWeights.AsSpan(range), y + (long)k * p + start, length);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tile);
        }
    }

    private static unsafe void ToFloats(byte* source, float* target, int length)
    {
        var i = 0;
        for (; i <= length - 8; i += 8)
        {
            Avx.Store(target + i, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(source + i)));
        }
        for (; i < length; i++)
        {
            target[i] = source[i];
        }
    }

    /// <summary>One output's pixels of a float tile: 64 per step in eight independent sums, then 8, then one at a time.</summary>
    private static unsafe void MixTileAvx2(float* tile, ReadOnlySpan<int> members, ReadOnlySpan<float> w, byte* y, int length)
    {
        var zero = Vector256<float>.Zero;
        var max = Vector256.Create(255f);
        var i = 0;
        // Eight dependency chains: each member adds one product per chain, in member order (same bytes as one chain).
        for (; i <= length - 64; i += 64)
        {
            Vector256<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            for (var m = 0; m < members.Length; m++)
            {
                var src = tile + members[m] * FloatTile + i;
                var weight = Vector256.Create(w[m]);
                a0 = Avx.Add(a0, Avx.Multiply(weight, Avx.LoadVector256(src)));
                a1 = Avx.Add(a1, Avx.Multiply(weight, Avx.LoadVector256(src + 8)));
                a2 = Avx.Add(a2, Avx.Multiply(weight, Avx.LoadVector256(src + 16)));
                a3 = Avx.Add(a3, Avx.Multiply(weight, Avx.LoadVector256(src + 24)));
                a4 = Avx.Add(a4, Avx.Multiply(weight, Avx.LoadVector256(src + 32)));
                a5 = Avx.Add(a5, Avx.Multiply(weight, Avx.LoadVector256(src + 40)));
                a6 = Avx.Add(a6, Avx.Multiply(weight, Avx.LoadVector256(src + 48)));
                a7 = Avx.Add(a7, Avx.Multiply(weight, Avx.LoadVector256(src + 56)));
            }
            Sse2.Store(y + i, Pack16(a0, a1, zero, max));
            Sse2.Store(y + i + 16, Pack16(a2, a3, zero, max));
            Sse2.Store(y + i + 32, Pack16(a4, a5, zero, max));
            Sse2.Store(y + i + 48, Pack16(a6, a7, zero, max));
        }
        for (; i <= length - 8; i += 8)
        {
            var acc = zero;
            for (var m = 0; m < members.Length; m++)
            {
                acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(w[m]), Avx.LoadVector256(tile + members[m] * FloatTile + i)));
            }
            Sse2.StoreScalar((long*)(y + i), Pack16(acc, acc, zero, max).AsInt64()); // the first 8 of 16 bytes
        }
        for (; i < length; i++)
        {
            var acc = 0f;
            for (var m = 0; m < members.Length; m++)
            {
                acc += w[m] * tile[members[m] * FloatTile + i];
            }
            y[i] = (byte)Math.Clamp(MathF.Round(acc, MidpointRounding.ToEven), 0f, 255f);
        }
    }

    /// <summary>Two sums of 8 pixels rounded half to even, clamped to 0..255 and packed into 16 bytes.</summary>
    private static Vector128<byte> Pack16(Vector256<float> a, Vector256<float> b, Vector256<float> zero, Vector256<float> max)
    {
        var ia = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(a), zero), max));
        var ib = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(b), zero), max));
        // int32 → int16 (values are 0..255 already) → uint8.
        return Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(ia.GetLower(), ia.GetUpper()), Sse2.PackSignedSaturate(ib.GetLower(), ib.GetUpper()));
    }

    private static void MixRow(ReadOnlySpan<byte> inputs, int p, int start, int length, ReadOnlySpan<int> members, ReadOnlySpan<float> w, Span<byte> output)
    {
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
