namespace ZetaPrep.Training.Tests;

public sealed class CurvePlotterTests
{
    private static EpochMetrics Epoch(int epoch, double train, double val) => new()
    {
        Epoch = epoch,
        TrainLoss = train,
        ValLoss = val,
        ValAccuracy = 0.5,
        ValBalancedAccuracy = 0.5,
        ValF1Micro = 0.5,
        ValF1Macro = 0.5,
        ImagesPerS = 1,
        Lr = 0.1,
        Seconds = 1,
        ValConfusion = [],
    };

    [Fact]
    public void LossAxis_ClipsAFirstEpochOutlier_ButKeepsOrdinaryRanges()
    {
        // The run from docs/TRAINING.md: val loss ~840 after warm-up, then ordinary values around 1.
        var spiky = new[] { Epoch(1, 2.1, 840), Epoch(2, 1.4, 1.9), Epoch(3, 1.1, 1.2), Epoch(4, 0.9, 1.0) };
        Assert.Equal(2.1, CurvePlotter.LossAxisMax(spiky));
        var ordinary = new[] { Epoch(1, 2.3, 2.0), Epoch(2, 1.2, 1.4) };
        Assert.Equal(2.3, CurvePlotter.LossAxisMax(ordinary));
        Assert.Equal(1, CurvePlotter.LossAxisMax([]));
    }

    [Fact]
    public void Write_ProducesAPngEvenWithAnOutlier()
    {
        var path = Path.Combine(Path.GetTempPath(), $"curves-{Guid.NewGuid():N}.png");
        try
        {
            CurvePlotter.Write([Epoch(1, 2.1, 840), Epoch(2, 1.4, 1.9)], path);
            using var bitmap = SkiaSharp.SKBitmap.Decode(path);
            Assert.NotNull(bitmap);
            Assert.True(bitmap.Width > 100 && bitmap.Height > 100);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
