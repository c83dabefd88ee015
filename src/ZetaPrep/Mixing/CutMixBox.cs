namespace ZetaPrep.Mixing;

/// <summary>
/// A CutMix box [X0, X1) × [Y0, Y1) on a SIZE×SIZE image, pasted from batch position <see cref="Partner"/>: its
/// original (CutMix) or its ζ-mixed output (<see cref="FromMixed"/>, cutmix+zeta).
/// </summary>
public sealed record CutMixBox(int Partner, bool FromMixed, int X0, int Y0, int X1, int Y1)
{
    public int Area => (X1 - X0) * (Y1 - Y0);

    /// <summary>
    /// The box of Yun et al.'s rand_bbox for λ and centre (cx, cy): side ⌊S·√(1−λ)⌋, half-sides by integer division,
    /// clipped to the image — so the pasted area can be smaller than (1−λ)·S² and the label uses the actual area.
    /// </summary>
    public static CutMixBox For(double lambda, int size, int cx, int cy, int partner, bool fromMixed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var cut = (int)(size * Math.Sqrt(1.0 - lambda));
        var half = cut / 2;
        return new CutMixBox(
            partner,
            fromMixed,
            Math.Clamp(cx - half, 0, size),
            Math.Clamp(cy - half, 0, size),
            Math.Clamp(cx + half, 0, size),
            Math.Clamp(cy + half, 0, size));
    }

    /// <summary>Copies the box from <paramref name="source"/> into <paramref name="target"/> (both SIZE×SIZE packed RGB).</summary>
    public void Paste(ReadOnlySpan<byte> source, Span<byte> target, int size)
    {
        var stride = size * 3;
        var width = (X1 - X0) * 3;
        for (var y = Y0; y < Y1; y++)
        {
            var offset = y * stride + X0 * 3;
            source.Slice(offset, width).CopyTo(target.Slice(offset, width));
        }
    }
}
