using SkiaSharp;

namespace ZetaPrep.Training.Tests;

public sealed class CurveLayoutTests
{
    private static EpochMetrics Epoch(int epoch) => new()
    {
        Epoch = epoch,
        TrainLoss = 1.0,
        ValLoss = 1.1,
        ValAccuracy = 0.5,
        ValBalancedAccuracy = 0.45,
        ValF1Micro = 0.5,
        ValF1Macro = 0.4,
        ImagesPerS = 1,
        Lr = 0.1,
        Seconds = 1,
        ValConfusion = [],
    };

    [Fact]
    public void Curves_LegendSitsAboveThePlots_AndTheLossAxisSaysLoss()
    {
        Assert.Contains("loss", CurvePlotter.LossAxisLabel, StringComparison.Ordinal);
        var path = Path.Combine(Path.GetTempPath(), $"curves-{Guid.NewGuid():N}.png");
        try
        {
            CurvePlotter.Write([Epoch(1), Epoch(2), Epoch(3)], path);
            using var bitmap = SKBitmap.Decode(path);
            // The metrics panel's lines lie at 0.4–0.5: its top band shows only white and the light grid, no legend text or swatch.
            var dark = 0;
            for (var y = CurvePlotter.Top + 3; y < CurvePlotter.Top + 60; y++)
            {
                for (var x = CurvePlotter.PanelWidth + CurvePlotter.Left + 3; x < 2 * CurvePlotter.PanelWidth - CurvePlotter.Right - 3; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    dark += Math.Min(c.Red, Math.Min(c.Green, c.Blue)) < 0xc0 ? 1 : 0;
                }
            }

            Assert.Equal(0, dark);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
