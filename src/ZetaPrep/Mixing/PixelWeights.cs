namespace ZetaPrep.Mixing;

/// <summary>
/// The weights the pixels are mixed with: each row of W rounded to whole multiples of 2^-16 that sum to exactly 1
/// (largest remainders), so that every product w·x (x a byte) and every partial sum is exact in float32 (below 2^24
/// steps of 2^-16). The float32 sum is then the exact integer sum Σ q·x / 65536, whatever the order of the additions,
/// fused multiply-adds or not, so every kernel on every device (the CPU's, the GPU's float and integer ones) writes
/// the same bytes. A weight moves by less than 2^-16 (1.5·10^-5) from the ζ formula's; the moves up and down cancel
/// (the units still sum to 1), and each side totals less than min(ups, downs) ≤ N/2 units, so a pixel of an N-member mix
/// moves by less than N·255·2^-17 (0.016 of a grey level at N = 8) before the rounding to a byte. The soft labels keep
/// the formula's weights. The pipeline rounds each output's float32 weights in the order of its <c>sources</c>; for
/// zeta and mixup rows (and originals) that is what the <c>weights</c> column holds, so a reader gets the same units
/// from it with <see cref="Units(ReadOnlySpan{float})"/>, and each mixed pixel is Σ q·x / 65536 of its sources' pixels, rounded half to even,
/// exactly. (CutMix rows' <c>weights</c> are their labels' mixture; their pixels are a ζ or single-image base with a
/// pasted box.)
/// </summary>
public static class PixelWeights
{
    /// <summary>The unit of a pixel weight: weights are q / <see cref="One"/> with q a whole number.</summary>
    public const int One = 1 << 16;

    /// <summary>
    /// The whole units q (weights q / <see cref="One"/>) that <paramref name="weights"/> round to: in proportion to them,
    /// summing to <see cref="One"/>, by largest remainders, a tie going to the earlier weight; all zero when no weight is
    /// positive. Exactly: Σw accumulated in float64 from the first weight to the last, rᵢ = wᵢ / Σw · 65536 in float64,
    /// qᵢ = ⌊rᵢ⌋, then one more unit to each of the 65536 − Σqᵢ largest rᵢ − qᵢ (the earlier on a tie).
    /// </summary>
    /// <exception cref="ArgumentException">A weight is negative, NaN or infinite.</exception>
    public static long[] Units(ReadOnlySpan<float> weights)
    {
        var units = new long[weights.Length];
        Units(weights, units);
        return units;
    }

    /// <summary>
    /// <see cref="Units(ReadOnlySpan{float})"/> into <paramref name="units"/> (as many as weights), without allocating
    /// for rows of up to 64 weights: the pipeline rounds every output of every batch.
    /// </summary>
    /// <exception cref="ArgumentException">A weight is negative, NaN or infinite.</exception>
    public static void Units(ReadOnlySpan<float> weights, Span<long> units)
    {
        if (units.Length != weights.Length)
        {
            throw new ArgumentException($"{units.Length} units for {weights.Length} weights", nameof(units));
        }

        foreach (var w in weights)
        {
            if (!float.IsFinite(w) || w < 0f)
            {
                throw new ArgumentException($"pixel weights must be finite and not negative, not {w}", nameof(weights));
            }
        }

        Span<double> remainders = weights.Length <= SmallRow ? stackalloc double[SmallRow] : new double[weights.Length];
        if (!Fill(weights, units, remainders[..weights.Length]))
        {
            units.Clear();
        }
    }

    /// <summary>Rows up to this many weights are rounded without allocating.</summary>
    internal const int SmallRow = 64;

    /// <summary>
    /// Whether <paramref name="row"/> is on the grid <see cref="Units(ReadOnlySpan{float})"/> rounds to: every weight q/<see cref="One"/>
    /// with q whole and ≥ 0, and the q summing to <see cref="One"/>.
    /// </summary>
    public static bool IsQuantized(ReadOnlySpan<float> row)
    {
        long sum = 0;
        foreach (var w in row)
        {
            var q = w * One; // exact: a power-of-two scale of a float32 in range
            if (!(q >= 0f) || q > One || q != MathF.Floor(q))
            {
                return false;
            }

            sum += (long)q;
        }

        return sum == One;
    }

    /// <summary>
    /// Fills <paramref name="units"/> for <paramref name="row"/> (finite, not negative: <see cref="Units(ReadOnlySpan{float}, Span{long})"/>
    /// checks); false when no weight is positive.
    /// </summary>
    private static bool Fill(ReadOnlySpan<float> row, Span<long> units, Span<double> remainders)
    {
        var total = 0.0;
        foreach (var w in row)
        {
            total += w;
        }

        if (!(total > 0))
        {
            return false;
        }

        long assigned = 0;
        for (var j = 0; j < row.Length; j++)
        {
            var w = row[j];
            if (w > 0f)
            {
                var exact = w / total * One;
                var whole = Math.Floor(exact);
                units[j] = (long)whole;
                remainders[j] = exact - whole;
                assigned += units[j];
            }
            else
            {
                units[j] = 0;
                remainders[j] = -1; // never rounded up
            }
        }

        // The units still missing go to the largest remainders, the earlier weight on a tie, one per pick. Their count
        // is below the number of positive weights: the remainders sum to it, up to rounding, and each is below 1. (At
        // most N² comparisons per row, against the N·pixels multiplies the row's mix costs.)
        var missing = One - assigned;
        for (; missing > 0; missing--)
        {
            var best = -1;
            for (var j = 0; j < row.Length; j++)
            {
                if (remainders[j] >= 0 && (best < 0 || remainders[j] > remainders[best]))
                {
                    best = j;
                }
            }

            if (best < 0)
            {
                break;
            }

            units[best]++;
            remainders[best] = -1;
        }

        assigned = One - missing;

        // Rounding of the double quotients can miss by a unit or so either way: settle it on the largest weight.
        for (var extra = assigned - One; extra != 0; extra -= Math.Sign(extra))
        {
            var largest = 0;
            for (var j = 1; j < row.Length; j++)
            {
                if (units[j] > units[largest])
                {
                    largest = j;
                }
            }

            units[largest] -= Math.Sign(extra);
        }

        return true;
    }
}
