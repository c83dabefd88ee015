namespace ZetaPrep.Training;

/// <summary>The "ERM" augmentations on square RGB24 images, as one inverse-mapped bilinear resample.</summary>
/// <remarks>
/// Random resized crop (area 60–100 %, aspect 3/4–4/3; torchvision's 8 % lower bound leaves almost nothing
/// of a 28-pixel image), rotation uniform in ±10° about the centre (corners outside the image are black, as in
/// torchvision's RandomRotation), and a horizontal flip with probability ½.
/// </remarks>
internal static class ImageAugmenter
{
    private const double MinArea = 0.6;
    private const double MaxDegrees = 10;

    public static void Apply(ReadOnlySpan<byte> source, Span<byte> destination, int size, Random random)
    {
        // Crop box in source pixels.
        double area = size * (double)size * (MinArea + (1 - MinArea) * random.NextDouble());
        double logRatio = Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * random.NextDouble();
        double ratio = Math.Exp(logRatio);
        double w = Math.Min(size, Math.Sqrt(area * ratio));
        double h = Math.Min(size, Math.Sqrt(area / ratio));
        double x0 = (size - w) * random.NextDouble();
        double y0 = (size - h) * random.NextDouble();
        double angle = (random.NextDouble() * 2 - 1) * MaxDegrees * Math.PI / 180;
        bool flip = random.NextDouble() < 0.5;
        double cos = Math.Cos(angle);
        double sin = Math.Sin(angle);
        double centre = size / 2.0;
        double scaleX = w / size;
        double scaleY = h / size;

        for (int v = 0; v < size; v++)
        {
            for (int u = 0; u < size; u++)
            {
                int uu = flip ? size - 1 - u : u;

                // Output pixel centre → crop box → undo the rotation about the image centre.
                double cx = x0 + (uu + 0.5) * scaleX - centre;
                double cy = y0 + (v + 0.5) * scaleY - centre;
                double sx = cos * cx - sin * cy + centre - 0.5;
                double sy = sin * cx + cos * cy + centre - 0.5;
                Sample(source, size, sx, sy, destination.Slice((v * size + u) * 3, 3));
            }
        }
    }

    private static void Sample(ReadOnlySpan<byte> source, int size, double x, double y, Span<byte> rgb)
    {
        int xi = (int)Math.Floor(x);
        int yi = (int)Math.Floor(y);
        double fx = x - xi;
        double fy = y - yi;
        for (int c = 0; c < 3; c++)
        {
            double top = Lerp(Pixel(source, size, xi, yi, c), Pixel(source, size, xi + 1, yi, c), fx);
            double bottom = Lerp(Pixel(source, size, xi, yi + 1, c), Pixel(source, size, xi + 1, yi + 1, c), fx);
            rgb[c] = (byte)Math.Clamp(Math.Round(Lerp(top, bottom, fy)), 0, 255);
        }
    }

    private static double Pixel(ReadOnlySpan<byte> source, int size, int x, int y, int c)
    {
        // Half a pixel of edge clamp keeps borders from darkening; further out is the black rotation fill.
        if (x < -1 || y < -1 || x > size || y > size)
        {
            return 0;
        }

        x = Math.Clamp(x, 0, size - 1);
        y = Math.Clamp(y, 0, size - 1);
        return source[(y * size + x) * 3 + c];
    }

    private static double Lerp(double a, double b, double t) => a + (b - a) * t;
}
