using System.Globalization;

namespace ZetaPrep.Training;

/// <summary>
/// Validation images decoded once and held in memory (size² × 3 bytes each) for evaluation every epoch. The pixels
/// lie in chunks of at most <see cref="DefaultChunkBytes"/> (whole images each): one array or MemoryStream is capped
/// at 2 GiB, which 683 images at --size 1024 already pass.
/// </summary>
internal sealed class ValidationSet
{
    /// <summary>The largest chunk of pixels (1 GiB), well under the 2 GiB a .NET array holds.</summary>
    public const int DefaultChunkBytes = 1 << 30;

    private readonly List<byte[]> _chunks;
    private readonly int _imagesPerChunk;

    private ValidationSet(IReadOnlyList<string> classNames, int size, List<byte[]> chunks, int imagesPerChunk, int[] labels, string description)
    {
        ClassNames = classNames;
        Size = size;
        _chunks = chunks;
        _imagesPerChunk = imagesPerChunk;
        Labels = labels;
        Description = description;
    }

    public IReadOnlyList<string> ClassNames { get; }

    public int Size { get; }

    /// <summary>Class index of each image.</summary>
    public int[] Labels { get; }

    public string Description { get; }

    public int Count => Labels.Length;

    /// <summary>Bytes of one image (RGB24).</summary>
    public int BytesPerImage => Size * Size * 3;

    /// <summary>Copies images <paramref name="start"/> … start + count − 1, in order, into <paramref name="destination"/>.</summary>
    public void CopyImages(int start, int count, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        var perImage = BytesPerImage;
        var copied = 0;
        while (copied < count)
        {
            var (chunk, first) = Math.DivRem(start + copied, _imagesPerChunk);
            var take = Math.Min(count - copied, _imagesPerChunk - first);
            _chunks[chunk].AsSpan(first * perImage, take * perImage).CopyTo(destination[(copied * perImage)..]);
            copied += take;
        }
    }

    /// <summary>Decodes every image of the source; an empty source or a class index outside the names is an error.</summary>
    public static Task<ValidationSet> LoadAsync(IValidationSource source, int size, CancellationToken cancellationToken) =>
        LoadAsync(source, size, DefaultChunkBytes, cancellationToken);

    /// <summary>As <see cref="LoadAsync(IValidationSource, int, CancellationToken)"/>, with chunks of at most <paramref name="maxChunkBytes"/> (tests use small ones).</summary>
    internal static async Task<ValidationSet> LoadAsync(IValidationSource source, int size, int maxChunkBytes, CancellationToken cancellationToken)
    {
        var names = await source.ReadClassNamesAsync(cancellationToken).ConfigureAwait(false);
        var perImage = size * size * 3;
        var imagesPerChunk = Math.Max(1, maxChunkBytes / perImage);
        var chunks = new List<byte[]>();
        var inChunk = 0;
        var labels = new List<int>();
        await foreach (var image in source.ReadImagesAsync(size, cancellationToken).ConfigureAwait(false))
        {
            if (image.ClassIndex < 0 || image.ClassIndex >= names.Count)
            {
                throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture, $"--val {source.Description}: class index {image.ClassIndex} outside its {names.Count} class names."));
            }

            if (chunks.Count == 0 || inChunk == imagesPerChunk)
            {
                chunks.Add(new byte[perImage * Math.Min(imagesPerChunk, 16)]);
                inChunk = 0;
            }
            else if ((inChunk + 1) * perImage > chunks[^1].Length)
            {
                // Grown by doubling up to the chunk's size, so a small set never holds a gigabyte.
                var grown = chunks[^1];
                Array.Resize(ref grown, perImage * Math.Min(imagesPerChunk, 2 * (chunks[^1].Length / perImage)));
                chunks[^1] = grown;
            }

            image.Rgb.AsSpan(0, perImage).CopyTo(chunks[^1].AsSpan(inChunk * perImage));
            inChunk++;
            labels.Add(image.ClassIndex);
        }

        if (labels.Count == 0)
        {
            throw ZetaPrepException.Usage($"--val {source.Description}: no images found.");
        }

        var last = chunks[^1];
        Array.Resize(ref last, inChunk * perImage);
        chunks[^1] = last;
        return new ValidationSet(names, size, chunks, imagesPerChunk, [.. labels], source.Description);
    }

    /// <summary>
    /// For a class-list mismatch: the expected classes whose folder exists in an ImageFolder --val but holds no images
    /// (so it is no class there), as " (x/ exists in --val but holds no images)", or "" when there are none.
    /// </summary>
    internal static string EmptyClassFolders(IValidationSource validation, IReadOnlyList<string> valClasses, IReadOnlyList<string> expected)
    {
        var empty = expected.Except(valClasses, StringComparer.Ordinal).Where(name =>
        {
            try
            {
                return Directory.Exists(Path.Combine(validation.Description, name));
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                return false;
            }
        }).Select(name => name + "/").ToList();
        return empty.Count switch
        {
            0 => "",
            1 => $" ({empty[0]} exists in --val but holds no images)",
            _ => $" ({string.Join(", ", empty)} exist in --val but hold no images)",
        };
    }
}
