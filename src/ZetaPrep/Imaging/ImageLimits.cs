namespace ZetaPrep.Imaging;

/// <summary>Limits enforced from the image header before any pixel is decoded; defaults suit untrusted input.</summary>
/// <param name="MaxPixels">Largest width × height accepted (--max-pixels); default 100,000,000 (400 MB as RGBA).</param>
public sealed record ImageLimits(long MaxPixels = 100_000_000)
{
    /// <summary>Largest width × height accepted; at least 1.</summary>
    public long MaxPixels { get; init => field = Check(value); } = Check(MaxPixels);

    private static long Check(long maxPixels) => maxPixels >= 1
        ? maxPixels
        : throw ZetaPrepException.Usage($"--max-pixels must be at least 1 (got {maxPixels.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
}
