namespace ZetaPrep.Training;

/// <summary>A method's figures over seeds: mean and sample standard deviation (divisor n − 1; 0 for one seed).</summary>
/// <param name="Method">Generation method.</param>
/// <param name="Seeds">Runs summarised.</param>
/// <param name="AccuracyMean">Mean best validation accuracy.</param>
/// <param name="AccuracyStd">Its standard deviation over seeds.</param>
/// <param name="F1MicroMean">Mean micro-F1 at the best epoch.</param>
/// <param name="F1MicroStd">Its standard deviation over seeds.</param>
/// <param name="F1MacroMean">Mean macro-F1 at the best epoch.</param>
/// <param name="F1MacroStd">Its standard deviation over seeds.</param>
/// <param name="IntrinsicDimMean">Mean local intrinsic dimension of the seed-0 shards (over the sampled points).</param>
/// <param name="IntrinsicDimStd">Population standard deviation of the local dimension over those points.</param>
/// <param name="ImagesPerS">Training images/s, mean over seeds and epochs.</param>
public sealed record MethodSummary(
    string Method,
    int Seeds,
    double AccuracyMean,
    double AccuracyStd,
    double F1MicroMean,
    double F1MicroStd,
    double F1MacroMean,
    double F1MacroStd,
    double IntrinsicDimMean,
    double IntrinsicDimStd,
    double ImagesPerS)
{
    /// <summary>Mean and sample standard deviation (n − 1) of <paramref name="values"/>; std 0 for fewer than two values.</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        double mean = values.Average();
        if (values.Count < 2)
        {
            return (mean, 0);
        }

        double squares = values.Sum(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(squares / (values.Count - 1)));
    }
}
