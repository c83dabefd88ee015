using System.Globalization;
using System.Text;
using System.Text.Json;
using SkiaSharp;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>Writes a comparison's results.md (table), results.json (runs and summaries) and results.png (bars with ± std error bars).</summary>
internal static class ComparisonReport
{
    private const int PanelWidth = 560;
    private const int Height = 420;
    private const int Left = 60;
    private const int Right = 20;
    private const int Top = 40;
    private const int Bottom = 60;

    private static readonly SKColor[] Colours =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd), new(0x8c, 0x56, 0x4b),
    ];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true, TypeInfoResolver = TrainingJsonContext.Default };

    public static void Write(ComparisonResult result, ComparisonOptions options)
    {
        AtomicFile.Write(result.MarkdownPath, Encoding.UTF8.GetBytes(Markdown(result, options)));
        var payload = new ComparisonReportFile(
            new ComparisonReportOptions(
                Path.GetFullPath(options.InputDirectory), options.ValidationPath is { } val ? Path.GetFullPath(val) : null, options.Methods, options.Seeds, options.Epochs, options.Size,
                options.Architecture.ToString().ToLowerInvariant(), options.BatchSize,
                options.AnyZeta ? options.N.ToString() : null, options.AnyZeta ? options.Gamma.ToString() : null,
                options.K ?? ComparisonOptions.DefaultK, options.MaxSamples),
            "runs: sample std over seeds (n-1); intrinsic_dim: population std over the sampled points of the seed-0 shards",
            result.Summaries,
            result.Runs);
        AtomicFile.Write(result.JsonPath, JsonSerializer.SerializeToUtf8Bytes(payload, Json.Info<ComparisonReportFile>()));
        WriteChart(result.Summaries, result.ChartPath);
    }

    public static string Markdown(ComparisonResult result, ComparisonOptions options)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        // N and γ only change the methods with ζ weights, so they are stated only when one ran.
        s.Append(inv, $"{options.Architecture.ToString().ToLowerInvariant()}, {options.Epochs} epoch(s), {options.Seeds} seed(s), size {options.Size}, batch {options.BatchSize}")
            .Append(options.AnyZeta ? string.Create(inv, $"; ζ-mixup N = {options.N}, γ = {options.Gamma.ToDisplayString()}") : "")
            .Append(". Validation figures at each run's best epoch (highest accuracy), mean ± std over seeds; ")
            .Append(inv, $"D_int: local intrinsic dimension of the seed-0 shards (k = {options.K ?? ComparisonOptions.DefaultK}, at most {options.MaxSamples} sampled images, --max-samples), mean ± std over the sampled points.")
            .AppendLine()
            .AppendLine()
            .AppendLine("| method | val accuracy | micro-F1 | macro-F1 | D_int | images/s |")
            .AppendLine("|---|---|---|---|---|---|");
        foreach (var m in result.Summaries)
        {
            s.Append(inv, $"| {m.Method} | {m.AccuracyMean:F4} ± {m.AccuracyStd:F4} | {m.F1MicroMean:F4} ± {m.F1MicroStd:F4} | {m.F1MacroMean:F4} ± {m.F1MacroStd:F4} | {m.IntrinsicDimMean:F2} ± {m.IntrinsicDimStd:F2} | {m.ImagesPerS:F1} |").AppendLine();
        }

        return s.ToString();
    }

    private static void WriteChart(IReadOnlyList<MethodSummary> summaries, string path)
    {
        using var surface = SKSurface.Create(new SKImageInfo(PanelWidth * 2, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        string[] metrics = ["val accuracy", "micro-F1", "macro-F1"];
        var values = summaries.Select(m => new[] { (m.AccuracyMean, m.AccuracyStd), (m.F1MicroMean, m.F1MicroStd), (m.F1MacroMean, m.F1MacroStd) }).ToArray();
        DrawBars(canvas, 0, "Validation (best epoch, mean ± std over seeds)", "score", metrics, summaries, values, 1.0);
        var dint = summaries.Select(m => new[] { (m.IntrinsicDimMean, m.IntrinsicDimStd) }).ToArray();
        var dMax = summaries.Count == 0 ? 5 : Math.Ceiling(Math.Max(1, summaries.Max(m => m.IntrinsicDimMean + m.IntrinsicDimStd)) * 1.1 / 5) * 5;
        DrawBars(canvas, PanelWidth, "Intrinsic dimension of seed-0 shards (± std)", "D_int", ["D_int"], summaries, dint, dMax);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, data.ToArray());
    }

    private static void DrawBars(SKCanvas canvas, float offset, string title, string yLabel, string[] groups, IReadOnlyList<MethodSummary> summaries, (double Mean, double Std)[][] values, double yMax)
    {
        using var font = new SKFont(SKTypeface.Default, 13);
        using var titleFont = new SKFont(SKTypeface.Default, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(0xdd, 0xdd, 0xdd), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke };
        using var whisker = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true };
        float x0 = offset + Left;
        float x1 = offset + PanelWidth - Right;
        float y0 = Height - Bottom;
        float y1 = Top;
        float Py(double v) => (float)(y0 - Math.Clamp(v, 0, yMax) / yMax * (y0 - y1));

        canvas.DrawText(title, (x0 + x1) / 2, Top - 14, SKTextAlign.Center, titleFont, ink);
        for (int i = 0; i <= 5; i++)
        {
            double v = yMax * i / 5;
            canvas.DrawLine(x0, Py(v), x1, Py(v), grid);
            canvas.DrawText(v.ToString(yMax >= 10 ? "F0" : "F2", CultureInfo.InvariantCulture), x0 - 6, Py(v) + 4, SKTextAlign.Right, font, ink);
        }

        float groupWidth = (x1 - x0) / Math.Max(1, groups.Length);
        float barWidth = groupWidth * 0.7f / Math.Max(1, summaries.Count);
        for (int g = 0; g < groups.Length; g++)
        {
            float gx = x0 + g * groupWidth + groupWidth * 0.15f;
            for (int m = 0; m < summaries.Count; m++)
            {
                var (mean, std) = values[m][g];
                using var fill = new SKPaint { Color = Colours[m % Colours.Length], IsAntialias = true };
                float bx = gx + m * barWidth;
                canvas.DrawRect(bx + 2, Py(mean), barWidth - 4, y0 - Py(mean), fill);
                float cx = bx + barWidth / 2;
                canvas.DrawLine(cx, Py(mean - std), cx, Py(mean + std), whisker);
                canvas.DrawLine(cx - 5, Py(mean - std), cx + 5, Py(mean - std), whisker);
                canvas.DrawLine(cx - 5, Py(mean + std), cx + 5, Py(mean + std), whisker);
                canvas.DrawText(mean.ToString(yMax >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture), cx, Py(mean + std) - 5, SKTextAlign.Center, font, ink);
            }

            canvas.DrawText(groups[g], x0 + (g + 0.5f) * groupWidth, y0 + 18, SKTextAlign.Center, font, ink);
        }

        canvas.DrawRect(x0, y1, x1 - x0, y0 - y1, axis);
        canvas.Save();
        canvas.RotateDegrees(-90, offset + 16, (y0 + y1) / 2);
        canvas.DrawText(yLabel, offset + 16, (y0 + y1) / 2, SKTextAlign.Center, font, ink);
        canvas.Restore();

        float legendX = x0;
        for (int m = 0; m < summaries.Count; m++)
        {
            using var fill = new SKPaint { Color = Colours[m % Colours.Length], IsAntialias = true };
            canvas.DrawRect(legendX, Height - 26, 12, 12, fill);
            canvas.DrawText(summaries[m].Method, legendX + 16, Height - 15, SKTextAlign.Left, font, ink);
            legendX += 24 + font.MeasureText(summaries[m].Method);
        }
    }
}
