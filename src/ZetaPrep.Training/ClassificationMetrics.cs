namespace ZetaPrep.Training;

/// <summary>Single-label multiclass metrics from a confusion matrix (rows = true class, columns = predicted class).</summary>
/// <remarks>
/// Micro-F1 equals accuracy for single-label multiclass data (every error is one false positive and one false negative),
/// and is reported under its own name because papers do. Macro-F1 and balanced accuracy average over classes
/// that occur in the truth or the predictions, as scikit-learn does; a class with no true samples has no recall.
/// </remarks>
public sealed record ClassificationMetrics(double Accuracy, double BalancedAccuracy, double F1Micro, double F1Macro, long[][] Confusion)
{
    /// <summary>Computes the metrics; the matrix must be square and non-empty.</summary>
    public static ClassificationMetrics FromConfusion(long[][] confusion)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        var k = confusion.Length;
        long total = 0;
        long correct = 0;
        var support = new long[k];
        var predicted = new long[k];
        for (var t = 0; t < k; t++)
        {
            if (confusion[t].Length != k)
            {
                throw new ArgumentException("confusion matrix must be square", nameof(confusion));
            }

            for (var p = 0; p < k; p++)
            {
                total += confusion[t][p];
                support[t] += confusion[t][p];
                predicted[p] += confusion[t][p];
            }

            correct += confusion[t][t];
        }

        var accuracy = total == 0 ? 0 : (double)correct / total;
        double recallSum = 0;
        var recallClasses = 0;
        double f1Sum = 0;
        var f1Classes = 0;
        for (var c = 0; c < k; c++)
        {
            if (support[c] > 0)
            {
                recallSum += (double)confusion[c][c] / support[c];
                recallClasses++;
            }

            if (support[c] > 0 || predicted[c] > 0)
            {
                // F1 = 2TP / (2TP + FP + FN) = 2TP / (support + predicted).
                f1Sum += 2.0 * confusion[c][c] / (support[c] + predicted[c]);
                f1Classes++;
            }
        }

        return new ClassificationMetrics(
            accuracy,
            recallClasses == 0 ? 0 : recallSum / recallClasses,
            accuracy,
            f1Classes == 0 ? 0 : f1Sum / f1Classes,
            confusion);
    }
}
