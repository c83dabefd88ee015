namespace ZetaPrep.Training.Tests;

public sealed class ClassificationMetricsTests
{
    [Fact]
    public void FixedConfusionMatrix_GivesHandComputedMetrics()
    {
        // true\pred   0  1  2
        //   0         5  1  0    support 6, recall 5/6
        //   1         2  3  1    support 6, recall 3/6
        //   2         0  0  4    support 4, recall 4/4
        long[][] confusion = [[5, 1, 0], [2, 3, 1], [0, 0, 4]];
        var m = ClassificationMetrics.FromConfusion(confusion);
        Assert.Equal(12.0 / 16, m.Accuracy, 12);
        Assert.Equal((5.0 / 6 + 3.0 / 6 + 1) / 3, m.BalancedAccuracy, 12);

        // Single-label multiclass: micro-F1 is accuracy.
        Assert.Equal(m.Accuracy, m.F1Micro, 12);

        // F1 = 2TP / (support + predicted): class 0: 10/(6+7), class 1: 6/(6+4), class 2: 8/(4+5).
        Assert.Equal((10.0 / 13 + 6.0 / 10 + 8.0 / 9) / 3, m.F1Macro, 12);
    }

    [Fact]
    public void ClassAbsentFromTruthAndPredictions_IsLeftOutOfTheAverages()
    {
        long[][] confusion = [[2, 0, 0], [1, 1, 0], [0, 0, 0]];
        var m = ClassificationMetrics.FromConfusion(confusion);
        Assert.Equal((1 + 0.5) / 2, m.BalancedAccuracy, 12);
        Assert.Equal((4.0 / 5 + 2.0 / 3) / 2, m.F1Macro, 12);
    }

    [Fact]
    public void Schedule_WarmsUpLinearlyThenDecaysToZero()
    {
        var s = new LearningRateSchedule(0.1, 4, 12);
        Assert.Equal(0.025, s.At(0), 12);
        Assert.Equal(0.1, s.At(3), 12);
        Assert.Equal(0.1, s.At(4), 12);
        Assert.Equal(0.05, s.At(8), 12);
        Assert.Equal(0, s.At(12), 12);
    }
}
