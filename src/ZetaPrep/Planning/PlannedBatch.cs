using ZetaPrep.Mixing;

namespace ZetaPrep.Planning;

/// <summary>
/// A batch of inputs (indices into the sorted listing) and its outputs; output k is dominated by input k. With
/// <see cref="KeepOriginals"/> the batch's rows are its originals (rows FirstRow + k) then its mixed outputs
/// (rows FirstRow + B + k).
/// </summary>
public sealed record PlannedBatch(int Pass, int Index, long FirstRow, int[] Inputs, MixRecipe[] Outputs, bool KeepOriginals = false)
{
    /// <summary>Rows this batch writes: its outputs, plus as many originals when <see cref="KeepOriginals"/>.</summary>
    public int Rows => KeepOriginals ? Outputs.Length + Inputs.Length : Outputs.Length;

    /// <summary>Row offset of mixed output 0 within the batch (after the originals, if kept).</summary>
    public int MixedOffset => KeepOriginals ? Inputs.Length : 0;

    /// <summary>The dense row-major [outputs × inputs] weight matrix W of out = W @ X, as float32.</summary>
    public float[] WeightMatrix() => Matrix(onGrid: false);

    /// <summary>
    /// W as the pixels are mixed with it: each output's float32 pixel weights, in the order of its members (the
    /// <c>sources</c> column's), rounded to whole multiples of 2^-16 summing to 1 (<see cref="PixelWeights.Units(ReadOnlySpan{float})"/>), so
    /// every device's kernel sums exactly and writes the same bytes; for zeta and mixup rows a reader recomputes each
    /// pixel from the <c>weights</c> column. The soft labels use the recipes' own weights.
    /// </summary>
    public float[] PixelWeightMatrix() => Matrix(onGrid: true);

    private float[] Matrix(bool onGrid)
    {
        var m = Inputs.Length;
        var w = new float[Outputs.Length * m];
        Span<float> single = stackalloc float[PixelWeights.SmallRow];
        Span<long> units = stackalloc long[PixelWeights.SmallRow];
        for (var k = 0; k < Outputs.Length; k++)
        {
            var recipe = Outputs[k];
            var members = recipe.PixelMembers ?? recipe.Members;
            var weights = recipe.PixelWeights ?? recipe.Weights;
            // No garbage per output for the usual N: the pipeline builds this for every batch.
            var f = weights.Length <= single.Length ? single[..weights.Length] : new float[weights.Length];
            for (var i = 0; i < weights.Length; i++)
            {
                f[i] = (float)weights[i];
            }

            scoped Span<long> q = default;
            if (onGrid)
            {
                q = weights.Length <= units.Length ? units[..weights.Length] : new long[weights.Length];
                PixelWeights.Units(f, q);
            }

            for (var i = 0; i < members.Length; i++)
            {
                w[k * m + members[i]] += onGrid ? q[i] / (float)PixelWeights.One : f[i];
            }
        }

        return w;
    }
}
