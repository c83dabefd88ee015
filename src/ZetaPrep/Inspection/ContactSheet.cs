using System.Globalization;
using SkiaSharp;
using ZetaPrep.Imaging;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>Renders a PNG contact sheet of a generated dataset: the first rows as tiles with their top-3 labels and weights, and the source thumbnails of the first row.</summary>
public static class ContactSheet
{
    public const int Tile = 160;
    private const int Pad = 10;
    private const int LineHeight = 15;
    private const int TextLines = 5; // file name, top-3 labels, weights
    private const int CellWidth = Tile + Pad;
    private const int CellHeight = Tile + (TextLines * LineHeight) + Pad;
    private const int TitleHeight = 30;
    private const int MaxSourceTiles = 8;

    private static readonly string[] FontDirectories = ["/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", @"C:\Windows\Fonts"];

    /// <summary>
    /// What was drawn: the PNG bytes, its size, and notes: why the source thumbnails were skipped (the input is gone or
    /// changed), and which rows' images do not decode (drawn as a crossed-out tile).
    /// </summary>
    public sealed record Result(byte[] Png, int Width, int Height, IReadOnlyList<string> Notes);

    public static async Task<Result> RenderAsync(string directory, int rows, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        var dataset = GeneratedDataset.Open(directory);
        var m = dataset.Manifest;
        var picked = new List<ShardRow>();
        var where = new List<string>();
        await foreach (var (shard, index, row) in dataset.ReadRowsAsync(ct).ConfigureAwait(false))
        {
            picked.Add(row);
            where.Add(Invariant($"{shard} row {index} ({row.ImagePath})"));
            if (picked.Count == rows)
            {
                break;
            }
        }
        if (picked.Count == 0)
        {
            throw new ZetaPrepException($"{dataset.Directory}: the dataset has no rows to preview.");
        }
        // Tiles are labelled with the class names a Parquet shard records, which loaders and train read, as inspect
        // shows them; where manifest.json's differ, a note says so (the sheet had drawn the manifest's, wrongly, QA).
        var (classes, classNotes) = await ShardClassNames.ShownAsync(dataset, "Drawn: the shards' names.", ct).ConfigureAwait(false);

        // The originals are read back through the source the manifest records, as generate read them; when that input is
        // gone or changed, the sources row says so instead of drawing tiles that are not the sources.
        var first = picked[0];
        var shown = first.Sources.Take(MaxSourceTiles).ToList();
        var sources = new List<(SKBitmap Image, string Weight, string Id)>();
        var (encoded, note) = await RecordedSources.ReadAsync(m, shown, ct).ConfigureAwait(false);
        if (encoded is not null)
        {
            var decoder = new SkiaImageDecoder(new ImageLimits(m.Options.MaxPixels));
            var rgb = new byte[Tile * Tile * 3];
            try
            {
                for (var i = 0; i < shown.Count; i++)
                {
                    var name = m.Input.Labels is null && m.Input.Preset is null ? Path.Combine(m.Input.Source, shown[i]) : $"{m.Input.Source}: {shown[i]}";
                    decoder.DecodeResized(encoded[i], name, Tile, ResizeMode.Crop, rgb);
                    sources.Add((FromRgb(rgb, Tile), Invariant($"w = {first.Weights[i]:F3}"), shown[i]));
                }
            }
            catch (ZetaPrepException e)
            {
                sources.ForEach(s => s.Image.Dispose());
                sources.Clear();
                note = e.Message;
            }
        }
        note = note is null ? null : "source thumbnails skipped: " + note;

        var columns = (int)Math.Ceiling(Math.Sqrt(picked.Count));
        var gridRows = (picked.Count + columns - 1) / columns;
        var width = Pad + (Math.Max(columns, sources.Count) * CellWidth);
        var sourceBlock = TitleHeight + (sources.Count > 0 ? Tile + (2 * LineHeight) + Pad : LineHeight + Pad);
        var height = TitleHeight + (gridRows * CellHeight) + sourceBlock;

        using var typeface = ResolveTypeface();
        using var font = new SKFont(typeface, 12);
        using var titleFont = new SKFont(typeface, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var frame = new SKPaint { Color = new SKColor(200, 200, 200), Style = SKPaintStyle.Stroke };
        using var cross = new SKPaint { Color = new SKColor(200, 0, 0), Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true };
        var undecodable = new List<string>();
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        canvas.DrawText(Title(dataset, picked.Count), Pad, 20, titleFont, ink);
        // Small images are enlarged with nearest-neighbour so their real pixels stay visible.
        var sampling = m.Options.Size < Tile ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
        for (var i = 0; i < picked.Count; i++)
        {
            var row = picked[i];
            var x = Pad + (i % columns * CellWidth);
            var y = TitleHeight + (i / columns * CellHeight);
            using (var bitmap = TryDecode(row.ImageBytes.Span))
            using (var image = bitmap is null ? null : SKImage.FromBitmap(bitmap))
            {
                if (image is not null)
                {
                    canvas.DrawImage(image, new SKRect(x, y, x + Tile, y + Tile), sampling);
                }
                else
                {
                    // A damaged PNG: crossed out, not a blank tile that reads as a white image.
                    canvas.DrawLine(x, y, x + Tile, y + Tile, cross);
                    canvas.DrawLine(x + Tile, y, x, y + Tile, cross);
                    canvas.DrawText("does not decode", x + 4, y + (Tile / 2), font, ink);
                    undecodable.Add(where[i]);
                }
            }
            canvas.DrawRect(x, y, Tile, Tile, frame);
            var top = row.Label.Select((v, c) => (v, c)).OrderByDescending(t => t.v).ThenBy(t => t.c).Take(3).ToList();
            var line = y + Tile + LineHeight - 2;
            canvas.DrawText(Fit(row.ImagePath, font), x, line, font, ink);
            foreach (var (v, c) in top)
            {
                line += LineHeight;
                canvas.DrawText(Fit(Invariant($"{v:F2} {Name(classes, c)}"), font), x, line, font, ink);
            }
            line += (3 - top.Count) * LineHeight; // fewer than 3 classes: keep the weights line in place
            line += LineHeight;
            canvas.DrawText(Fit("w " + string.Join(' ', row.Weights.Take(4).Select(w => w.ToString("F2", CultureInfo.InvariantCulture))), font), x, line, font, ink);
        }

        var sy = TitleHeight + (gridRows * CellHeight);
        canvas.DrawText(note ?? Invariant($"sources of {first.ImagePath} (dominant first{(first.Sources.Length > MaxSourceTiles ? $", {MaxSourceTiles} of {first.Sources.Length}" : "")}):"), Pad, sy + 20, titleFont, ink);
        for (var i = 0; i < sources.Count; i++)
        {
            var x = Pad + (i * CellWidth);
            var y = sy + TitleHeight;
            canvas.DrawBitmap(sources[i].Image, new SKRect(x, y, x + Tile, y + Tile));
            sources[i].Image.Dispose();
            canvas.DrawRect(x, y, Tile, Tile, frame);
            canvas.DrawText(Fit(sources[i].Weight, font), x, y + Tile + LineHeight - 2, font, ink);
            canvas.DrawText(Fit(sources[i].Id, font, fromStart: true), x, y + Tile + (2 * LineHeight) - 2, font, ink);
        }

        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        var notes = new List<string>();
        // First: what the sheet shows is then only the start of an unfinished run (inspect warns, verify fails the same way).
        if (dataset.IncompleteNote("this sheet shows rows of those shards only") is { } incomplete)
        {
            notes.Add(incomplete);
        }
        notes.AddRange(classNotes);
        if (note is not null)
        {
            notes.Add(note);
        }
        if (undecodable.Count > 0)
        {
            notes.Add(Invariant($"{undecodable.Count} image(s) do not decode, drawn crossed out: {string.Join(", ", undecodable.Take(3))}{(undecodable.Count > 3 ? ", …" : "")}; run zetaprep verify {dataset.Directory} to check the whole output."));
        }
        return new Result(data.ToArray(), width, height, notes);
    }

    /// <summary>A row's image, or null when it does not decode (SKBitmap.Decode throws when not even a codec opens it).</summary>
    private static SKBitmap? TryDecode(ReadOnlySpan<byte> png)
    {
        try
        {
            return SKBitmap.Decode(png);
        }
        catch (ArgumentNullException)
        {
            return null;
        }
    }

    /// <summary>Renders and writes the sheet to <paramref name="path"/> atomically.</summary>
    public static async Task<Result> WriteAsync(string directory, int rows, string path, CancellationToken ct)
    {
        var result = await RenderAsync(directory, rows, ct).ConfigureAwait(false);
        try
        {
            AtomicFile.Write(path, result.Png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ZetaPrepException($"--out {path}: cannot write ({e.Message}).", e);
        }
        return result;
    }

    /// <summary>Shortens text to fit a tile, with an ellipsis at the end (or at the start, keeping a path's file name).</summary>
    private static string Fit(string text, SKFont font, bool fromStart = false)
    {
        if (font.MeasureText(text) <= Tile)
        {
            return text;
        }
        for (var keep = text.Length - 1; keep > 0; keep--)
        {
            var candidate = fromStart ? "…" + text[^keep..] : text[..keep] + "…";
            if (font.MeasureText(candidate) <= Tile)
            {
                return candidate;
            }
        }
        return "…";
    }

    private static string Name(IReadOnlyList<string> classes, int index) => index < classes.Count ? classes[index] : index.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static SKBitmap FromRgb(byte[] rgb, int size)
    {
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[size * size * 4];
        for (int p = 0, q = 0; p < size * size * 3; p += 3, q += 4)
        {
            pixels[q] = rgb[p];
            pixels[q + 1] = rgb[p + 1];
            pixels[q + 2] = rgb[p + 2];
            pixels[q + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }

    /// <summary>Skia's default typeface, or — where the native build has no font manager (NoDependencies) — a system TrueType font.</summary>
    private static SKTypeface ResolveTypeface()
    {
        var fallback = SKTypeface.Default;
        if (fallback.GlyphCount > 0)
        {
            return fallback;
        }
        foreach (var dir in FontDirectories.Where(Directory.Exists))
        {
            var files = Directory.EnumerateFiles(dir, "*.ttf", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            var preferred = files.FirstOrDefault(f => Path.GetFileName(f).Equals("DejaVuSans.ttf", StringComparison.OrdinalIgnoreCase))
                ?? files.FirstOrDefault(f => Path.GetFileName(f).StartsWith("LiberationSans-Regular", StringComparison.OrdinalIgnoreCase))
                ?? files.FirstOrDefault();
            if (preferred is not null && SKTypeface.FromFile(preferred) is { } typeface)
            {
                return typeface;
            }
        }
        return fallback;
    }

    /// <summary>The sheet's title: the output, how many rows it shows, how they were mixed (N and γ for ζ-mixup only) and their size.</summary>
    public static string Title(GeneratedDataset dataset, int shown)
    {
        var m = dataset.Manifest;
        return Invariant($"{Path.GetFileName(dataset.Directory)}: first {shown} of {m.Totals.Rows} rows, {m.Options.MixSummary(RowComposition.Of(m))}, {m.Options.Size}×{m.Options.Size}");
    }
}
