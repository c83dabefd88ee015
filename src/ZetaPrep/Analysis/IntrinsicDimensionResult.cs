namespace ZetaPrep.Analysis;

/// <summary>The local intrinsic dimension of a point set: mean and population std over the sampled points, and how many points got each dimension.</summary>
/// <param name="Input">The analysed path, as given.</param>
/// <param name="InputKind"><c>shards</c> or <c>imagefolder</c>.</param>
/// <param name="Available">Images in the input.</param>
/// <param name="Samples">Points analysed (≤ MaxSamples).</param>
/// <param name="ImageSize">Side S of the decoded images.</param>
/// <param name="PixelDimension">Ambient dimension D = 3·S².</param>
/// <param name="K">Neighbours per point, the point itself excluded.</param>
/// <param name="AlphaFo">Eigenvalue threshold as a fraction of the largest.</param>
/// <param name="Seed">Seed of the subsample.</param>
/// <param name="Device">The torch device used.</param>
/// <param name="Mean">Mean local dimension.</param>
/// <param name="Std">Population standard deviation (divisor n, as numpy's default) of the local dimension.</param>
/// <param name="Histogram">Local dimension → number of points, ascending.</param>
public sealed record IntrinsicDimensionResult(
    string Input,
    string InputKind,
    long Available,
    int Samples,
    int ImageSize,
    int PixelDimension,
    int K,
    double AlphaFo,
    ulong Seed,
    string Device,
    double Mean,
    double Std,
    IReadOnlyDictionary<int, int> Histogram)
{
    /// <summary>Mean, population std and histogram of per-point dimensions.</summary>
    public static (double Mean, double Std, SortedDictionary<int, int> Histogram) Summarize(IReadOnlyList<int> dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        ArgumentOutOfRangeException.ThrowIfZero(dims.Count);
        double sum = 0;
        var histogram = new SortedDictionary<int, int>();
        foreach (int d in dims)
        {
            sum += d;
            histogram[d] = histogram.GetValueOrDefault(d) + 1;
        }

        double mean = sum / dims.Count;
        double squares = 0;
        foreach (int d in dims)
        {
            squares += (d - mean) * (d - mean);
        }

        return (mean, Math.Sqrt(squares / dims.Count), histogram);
    }
}
