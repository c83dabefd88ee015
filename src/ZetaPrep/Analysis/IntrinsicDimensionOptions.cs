using System.Globalization;
using ZetaPrep.Imaging;
using ZetaPrep.Mixing;

namespace ZetaPrep.Analysis;

/// <summary>Options of the Fukunaga–Olsen local intrinsic-dimension estimate; <see cref="Validate"/> names the bad option.</summary>
public sealed record IntrinsicDimensionOptions
{
    /// <summary>Image side used for ImageFolder inputs when <see cref="Size"/> is not given.</summary>
    public const int DefaultFolderSize = 32;

    /// <summary>The fewest neighbours --k takes: a neighbourhood of one point has no spread.</summary>
    public const int MinK = 2;

    /// <summary>The fewest images --max-samples takes (and it must exceed --k).</summary>
    public const int MinSamples = 3;

    /// <summary>Neighbours per point (the point itself excluded); default 128.</summary>
    public int K { get; init; } = 128;

    /// <summary>An eigenvalue counts as a dimension when it exceeds AlphaFo × the largest; default 0.05 (Fukunaga–Olsen).</summary>
    public double AlphaFo { get; init; } = 0.05;

    /// <summary>At most this many points are loaded: a uniform subsample without replacement, fixed by <see cref="Seed"/>; default 2000.</summary>
    public int MaxSamples { get; init; } = 2000;

    /// <summary>Image side S (points live in 3·S² dimensions); null: the shards' own size, or <see cref="DefaultFolderSize"/> for folders.</summary>
    public int? Size { get; init; }

    /// <summary>Seed of the subsample.</summary>
    public ulong Seed { get; init; }

    /// <summary>Where distances and eigenvalues are computed.</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>Bytes the sampled pixels may take: they are held in one array (3·S² bytes per image).</summary>
    public static long MaxPixelBytes => Array.MaxLength;

    /// <summary>The most images whose pixels fit in <see cref="MaxPixelBytes"/> at side <paramref name="size"/>.</summary>
    public static long MaxSamplesAt(int size) => MaxPixelBytes / (3L * size * size);

    /// <summary>
    /// Refuses, before anything is loaded, a sample whose pixels (<paramref name="samples"/> × 3·S²) would not fit in one
    /// array, naming --size and --max-samples and what fits; <paramref name="sizeGiven"/> false means S is the shards' own size.
    /// </summary>
    public static void CheckFits(long samples, int size, int maxSamples, bool sizeGiven = true)
    {
        long bytes = samples * 3L * size * size;
        if (bytes <= MaxPixelBytes)
        {
            return;
        }

        long fit = MaxSamplesAt(size);
        int side = (int)Math.Floor(Math.Sqrt(MaxPixelBytes / (3.0 * samples)));
        var sizeText = sizeGiven ? $"--size {size}" : $"the shards' size {size} (no --size given)";
        var fewer = fit >= 3
            ? $"give --max-samples {fit} or less at this size, or a smaller --size (at most {side} for {samples} images)"
            : $"not even 3 images fit at this size: give a smaller --size (at most {side} for {samples} images)";
        throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
            $"{sizeText} with --max-samples {maxSamples}: {samples} images × 3·{size}² bytes = {bytes / (double)(1L << 30):F1} GiB of pixels, more than the {MaxPixelBytes / (double)(1L << 30):F1} GiB one analysis can hold; {fewer}."));
    }

    /// <summary>Throws a usage <see cref="ZetaPrepException"/> for an option out of range (k against the sample count is checked after loading).</summary>
    public void Validate()
    {
        if (K < MinK)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--k {K}: must be at least 2 (a neighbourhood of one point has no spread); the paper uses 128."));
        }

        if (!(AlphaFo > 0 && AlphaFo < 1))
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--alpha-fo {AlphaFo}: must lie strictly between 0 and 1 (Fukunaga–Olsen use 0.05)."));
        }

        if (MaxSamples < MinSamples)
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--max-samples {MaxSamples}: must be at least 3 (and more than --k)."));
        }

        if (Size is { } s && (s < 1 || s > SkiaImageDecoder.MaxSize))
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture, $"--size {s}: must be between 1 and {SkiaImageDecoder.MaxSize}."));
        }
    }
}
