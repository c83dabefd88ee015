using System.Globalization;
using SkiaSharp;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>Draws OUT/curves.png: losses (left panel) and validation metrics (right panel) per epoch, with axes and legends.</summary>
internal static class CurvePlotter
{
    internal const int PanelWidth = 520;
    internal const int Height = 400;
    internal const int Left = 60;
    internal const int Right = 20;
    // Title and a legend row above the plot area, so that no legend covers a line.
    internal const int Top = 64;
    private const int Bottom = 50;

    public static void Write(IReadOnlyList<EpochMetrics> epochs, string path)
    {
        using var surface = SKSurface.Create(new SKImageInfo(PanelWidth * 2, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var x = epochs.Select(e => (double)e.Epoch).ToArray();
        var maxLoss = LossAxisMax(epochs);
        DrawPanel(canvas, 0, "Loss (outliers clipped at the top)", LossAxisLabel, x, 0, maxLoss * 1.05,
            [("train loss", epochs.Select(e => e.TrainLoss).ToArray(), new SKColor(0x1f, 0x77, 0xb4)), ("val loss", epochs.Select(e => e.ValLoss).ToArray(), new SKColor(0xd6, 0x27, 0x28))]);
        DrawPanel(canvas, PanelWidth, "Validation metrics", MetricsAxisLabel, x, 0, 1,
            [
                ("accuracy = micro-F1", epochs.Select(e => e.ValAccuracy).ToArray(), new SKColor(0x2c, 0xa0, 0x2c)),
                ("balanced accuracy", epochs.Select(e => e.ValBalancedAccuracy).ToArray(), new SKColor(0x94, 0x67, 0xbd)),
                ("macro-F1", epochs.Select(e => e.ValF1Macro).ToArray(), new SKColor(0xff, 0x7f, 0x0e)),
            ]);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, data.AsSpan());
    }

    /// <summary>The y-axis labels of the two panels.</summary>
    internal const string LossAxisLabel = "loss";

    internal const string MetricsAxisLabel = "score";

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    /// <summary>
    /// The loss axis' top: the largest loss within 4× the median of all losses. An early validation loss in the hundreds
    /// (BatchNorm statistics right after warm-up) would otherwise flatten every other point; such points are clipped.
    /// </summary>
    internal static double LossAxisMax(IReadOnlyList<EpochMetrics> epochs)
    {
        var losses = epochs.SelectMany(e => new[] { Finite(e.TrainLoss), Finite(e.ValLoss) }).Order().ToArray();
        if (losses.Length == 0)
        {
            return 1;
        }
        var median = losses[losses.Length / 2];
        return Math.Max(1e-6, losses.Where(v => v <= 4 * Math.Max(median, 1e-6)).DefaultIfEmpty(losses[0]).Max());
    }

    private static void DrawPanel(SKCanvas canvas, float offset, string title, string yLabel, double[] x, double yMin, double yMax, (string Name, double[] Y, SKColor Colour)[] series)
    {
        using var font = new SKFont(SKTypeface.Default, 13);
        using var titleFont = new SKFont(SKTypeface.Default, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(0xdd, 0xdd, 0xdd), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke };
        float x0 = offset + Left;
        float x1 = offset + PanelWidth - Right;
        float y0 = Height - Bottom;
        float y1 = Top;
        double xMin = 1;
        double xMax = Math.Max(2, x.Length == 0 ? 2 : x.Max());
        float Px(double v) => (float)(x0 + (v - xMin) / (xMax - xMin) * (x1 - x0));
        float Py(double v) => (float)(y0 - (Math.Clamp(v, yMin, yMax) - yMin) / (yMax - yMin) * (y0 - y1));

        canvas.DrawText(title, (x0 + x1) / 2, Top - 40, SKTextAlign.Center, titleFont, ink);
        for (int i = 0; i <= 5; i++)
        {
            double v = yMin + (yMax - yMin) * i / 5;
            canvas.DrawLine(x0, Py(v), x1, Py(v), grid);
            canvas.DrawText(v.ToString(v >= 10 ? "F0" : "F2", CultureInfo.InvariantCulture), x0 - 6, Py(v) + 4, SKTextAlign.Right, font, ink);
        }

        int step = Math.Max(1, (int)Math.Ceiling((xMax - xMin) / 10));
        for (int e = (int)xMin; e <= xMax; e += step)
        {
            canvas.DrawLine(Px(e), y0, Px(e), y0 + 4, axis);
            canvas.DrawText(e.ToString(CultureInfo.InvariantCulture), Px(e), y0 + 18, SKTextAlign.Center, font, ink);
        }

        canvas.DrawRect(x0, y1, x1 - x0, y0 - y1, axis);
        canvas.DrawText("epoch", (x0 + x1) / 2, Height - 10, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, offset + 16, (y0 + y1) / 2);
        canvas.DrawText(yLabel, offset + 16, (y0 + y1) / 2, SKTextAlign.Center, font, ink);
        canvas.Restore();

        // The legend: one row between the title and the plot area.
        float legendX = x0;
        const float legendY = Top - 14;
        foreach (var (name, y, colour) in series)
        {
            using var line = new SKPaint { Color = colour, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = colour, IsAntialias = true };
            using var path = new SKPath();
            for (int i = 0; i < y.Length; i++)
            {
                if (!double.IsFinite(y[i]))
                {
                    continue;
                }

                if (path.IsEmpty)
                {
                    path.MoveTo(Px(x[i]), Py(y[i]));
                }
                else
                {
                    path.LineTo(Px(x[i]), Py(y[i]));
                }

                canvas.DrawCircle(Px(x[i]), Py(y[i]), 3, dot);
            }

            canvas.DrawPath(path, line);
            canvas.DrawLine(legendX, legendY - 4, legendX + 25, legendY - 4, line);
            canvas.DrawText(name, legendX + 30, legendY, SKTextAlign.Left, font, ink);
            legendX += 30 + font.MeasureText(name) + 18;
        }
    }
}
