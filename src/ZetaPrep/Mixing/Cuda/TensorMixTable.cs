namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// The weight table of <see cref="TensorKernelPtx"/>: the batch's weights as a dense matrix of 16-bit units q
/// (<see cref="PixelWeights"/>' grid), cut into tiles of 16 outputs × 32 inputs, each tile as the A fragments of
/// <c>mma.m16n8k32</c> (row-major, 8-bit): per lane (g = lane / 4, t = lane % 4) eight words, first the high bytes qh then
/// the low bytes ql, each as four registers: row g, inputs 4t..4t+3; row g + 8, the same inputs; row g, inputs
/// 16 + 4t..16 + 4t + 3; row g + 8, those (input 4t + b in byte b). Tiles in the order output tile, then input tile;
/// weights past the batch's outputs or inputs are zero.
/// </summary>
internal static class TensorMixTable
{
    /// <summary>Words of the table of a batch (the kernel's shared fragments are as many words).</summary>
    public static int Words(int inputs, int outputs) => checked((int)(TensorKernelPtx.FragmentBytes(inputs, outputs) / 4));

    /// <summary>
    /// Writes the table of a batch (row-major [<paramref name="outputs"/> × <paramref name="inputs"/>]
    /// <paramref name="weights"/>) into <paramref name="table"/>, or returns false when the kernel cannot take it: over
    /// <see cref="TensorKernelPtx.MaxInputs"/> inputs, a row off the grid, or a weight of exactly 1 (q = 65536, over 16
    /// bits; the other integer kernels split it in two members, which a dense matrix cannot).
    /// </summary>
    public static bool Write(ReadOnlySpan<float> weights, int inputs, int outputs, Span<int> table)
    {
        if (inputs < 1 || outputs < 1 || inputs > TensorKernelPtx.MaxInputs)
        {
            return false;
        }

        var words = Words(inputs, outputs);
        if (words > table.Length)
        {
            throw new ArgumentException($"a table of {table.Length} words cannot hold {words}", nameof(table));
        }

        var inputTiles = TensorKernelPtx.InputTiles(inputs);
        table[..words].Clear();
        for (var o = 0; o < outputs; o++)
        {
            var row = weights.Slice(o * inputs, inputs);
            if (!PixelWeights.IsQuantized(row))
            {
                return false;
            }

            var (outputTile, m) = Math.DivRem(o, TensorKernelPtx.OutputsPerTile);
            var g = m % 8;
            var lower = m >= 8 ? 1 : 0;
            for (var i = 0; i < inputs; i++)
            {
                var q = (int)(row[i] * PixelWeights.One);
                if (q == 0)
                {
                    continue;
                }

                if (q >= PixelWeights.One)
                {
                    return false;
                }

                var (inputTile, k) = Math.DivRem(i, TensorKernelPtx.InputsPerTile);
                var lane = (4 * g) + ((k % 16) / 4);
                var register = lower + (k >= 16 ? 2 : 0);
                var word = (((((outputTile * inputTiles) + inputTile) * 32) + lane) * 8) + register;
                var shift = 8 * (k % 4);
                table[word] |= (q >> 8) << shift;
                table[word + 4] |= (q & 0xFF) << shift;
            }
        }

        return true;
    }
}
