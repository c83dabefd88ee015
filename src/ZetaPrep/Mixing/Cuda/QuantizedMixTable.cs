namespace ZetaPrep.Mixing.Cuda;

/// <summary>
/// The weight table of <see cref="QuantizedKernelPtx"/>: per output a row of 32-bit words (as many as the batch's
/// longest row needs, <see cref="Write"/>; at most <see cref="Stride"/>), the count of member groups, three words of
/// padding, then per group of four members 8 words: the members' byte offsets in
/// the shared tile (input · <see cref="QuantizedKernelPtx.TileBytes"/>), their weights' high bytes qh packed into one
/// word (member k in byte k), their low bytes ql likewise, and the whole 16-bit weights in pairs for
/// <see cref="PairKernelPtx"/> (q0 | q1 &lt;&lt; 16, then q2 | q3 &lt;&lt; 16).
/// </summary>
internal static class QuantizedMixTable
{
    /// <summary>Words per row for batches of up to <paramref name="maxInputs"/> inputs (one more member: a weight of 1 is split in two).</summary>
    public static int Stride(int maxInputs) => 4 + (8 * Groups(maxInputs + 1));

    /// <summary>
    /// Writes the table of a batch (row-major [<paramref name="outputs"/> × <paramref name="inputs"/>]
    /// <paramref name="weights"/>) into <paramref name="table"/>, each row as long as the batch's longest needs, and
    /// returns that row length in words (the kernel's stride), or 0 when a row is off the grid (nothing usable written).
    /// </summary>
    public static int Write(ReadOnlySpan<float> weights, int inputs, int outputs, Span<int> table)
    {
        var rowWords = 0;
        for (var k = 0; k < outputs; k++)
        {
            var words = RowWords(weights.Slice(k * inputs, inputs));
            if (words == 0)
            {
                return 0;
            }

            rowWords = Math.Max(rowWords, words);
        }

        if ((long)rowWords * outputs > table.Length)
        {
            throw new ArgumentException($"a table of {table.Length} words cannot hold {outputs} rows of {rowWords}", nameof(table));
        }

        for (var k = 0; k < outputs; k++)
        {
            Fill(weights.Slice(k * inputs, inputs), table.Slice(k * rowWords, rowWords));
        }

        return rowWords;
    }

    /// <summary>
    /// Words the row of <paramref name="weights"/> needs (<see cref="WriteRow"/> fills them), or 0 when the weights are
    /// not <see cref="PixelWeights"/>' grid.
    /// </summary>
    public static int RowWords(ReadOnlySpan<float> weights) =>
        PixelWeights.IsQuantized(weights) ? 4 + (8 * Groups(Members(weights))) : 0;

    /// <summary>
    /// Writes the row of one output with the weights <paramref name="weights"/> (one per input), or returns false when
    /// they are not <see cref="PixelWeights"/>' (the float kernels then mix the batch). A weight of exactly 1 (q = 65536,
    /// the only member) becomes two members of q = 32768 each on the same input, so every q fits 16 bits.
    /// </summary>
    public static bool WriteRow(ReadOnlySpan<float> weights, Span<int> row)
    {
        if (!PixelWeights.IsQuantized(weights))
        {
            return false;
        }

        Fill(weights, row);
        return true;
    }

    /// <summary>
    /// Members a row on the grid has in the table: its non-zero weights, and two for a lone weight (1, split in halves).
    /// </summary>
    private static int Members(ReadOnlySpan<float> weights)
    {
        var count = 0;
        foreach (var w in weights)
        {
            count += w != 0f ? 1 : 0;
        }

        return count == 1 ? 2 : count;
    }

    /// <summary><see cref="WriteRow"/> for weights known to be on the grid.</summary>
    private static void Fill(ReadOnlySpan<float> weights, Span<int> row)
    {
        Span<int> inputs = stackalloc int[Math.Min(weights.Length + 1, 1024)];
        Span<int> units = stackalloc int[inputs.Length];
        if (weights.Length + 1 > inputs.Length)
        {
            inputs = new int[weights.Length + 1];
            units = new int[weights.Length + 1];
        }

        var count = 0;
        for (var j = 0; j < weights.Length; j++)
        {
            if (weights[j] != 0f)
            {
                inputs[count] = j;
                units[count++] = (int)(weights[j] * PixelWeights.One);
            }
        }

        if (count == 1)
        {
            // On the grid, a lone weight is 1 (q = 65536, over 16 bits): two halves on the same input.
            inputs[1] = inputs[0];
            units[0] = units[1] = PixelWeights.One / 2;
            count = 2;
        }

        var groups = Groups(count);
        if (4 + (8 * groups) > row.Length)
        {
            throw new ArgumentException($"a row of {row.Length} words cannot hold {count} members", nameof(row));
        }

        row[..4].Clear();
        row[0] = groups;
        for (var g = 0; g < groups; g++)
        {
            var record = row.Slice(4 + (8 * g), 8);
            record.Clear();
            int high = 0, low = 0, pairs = 0, pairs2 = 0;
            for (var k = 0; k < 4; k++)
            {
                var m = (4 * g) + k;
                // Past the last member: the first member's tile row with weight 0.
                var (input, q) = m < count ? (inputs[m], units[m]) : (inputs[0], 0);
                record[k] = input * QuantizedKernelPtx.TileBytes;
                high |= (q >> 8) << (8 * k);
                low |= (q & 0xFF) << (8 * k);
                if (k < 2)
                {
                    pairs |= q << (16 * k);
                }
                else
                {
                    pairs2 |= q << (16 * (k - 2));
                }
            }

            record[4] = high;
            record[5] = low;
            record[6] = pairs;
            record[7] = pairs2;
        }
    }

    /// <summary>
    /// The launch shape for <paramref name="pixels"/> bytes per image and <paramref name="outputs"/> outputs: a block
    /// per chunk of <see cref="QuantizedKernelPtx.TileBytes"/> bytes, and the outputs split over grid y (each block
    /// then loads its own tile) only where the image has too few chunks to fill the GPU.
    /// </summary>
    public static (uint GridX, uint GridY, int PerBlock) Geometry(int pixels, int outputs)
    {
        const int WantedBlocks = 1024;
        var chunks = (pixels + QuantizedKernelPtx.TileBytes - 1) / QuantizedKernelPtx.TileBytes;
        var passes = (outputs + QuantizedKernelPtx.OutputsPerPass - 1) / QuantizedKernelPtx.OutputsPerPass;
        var split = Math.Clamp((WantedBlocks + chunks - 1) / chunks, 1, Math.Max(passes, 1));
        var perBlock = ((passes + split - 1) / split) * QuantizedKernelPtx.OutputsPerPass;
        var gridY = (outputs + perBlock - 1) / perBlock;
        return ((uint)chunks, (uint)Math.Max(gridY, 1), perBlock);
    }

    private static int Groups(int members) => Math.Max(1, (members + 3) / 4);
}
