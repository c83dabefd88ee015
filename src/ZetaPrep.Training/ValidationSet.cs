namespace ZetaPrep.Training;

/// <summary>Validation images decoded once and held in memory (size² × 3 bytes each) for evaluation every epoch.</summary>
internal sealed record ValidationSet(IReadOnlyList<string> ClassNames, int Size, byte[] Pixels, int[] Labels, string Description)
{
    public int Count => Labels.Length;

    /// <summary>Decodes every image of the source; an empty source or a class index outside the names is an error.</summary>
    public static async Task<ValidationSet> LoadAsync(IValidationSource source, int size, CancellationToken cancellationToken)
    {
        var names = await source.ReadClassNamesAsync(cancellationToken).ConfigureAwait(false);
        using var pixels = new MemoryStream();
        var labels = new List<int>();
        await foreach (var image in source.ReadImagesAsync(size, cancellationToken).ConfigureAwait(false))
        {
            if (image.ClassIndex < 0 || image.ClassIndex >= names.Count)
            {
                throw new ZetaPrepException($"--val {source.Description}: class index {image.ClassIndex} outside its {names.Count} class names.");
            }

            pixels.Write(image.Rgb);
            labels.Add(image.ClassIndex);
        }

        if (labels.Count == 0)
        {
            throw ZetaPrepException.Usage($"--val {source.Description}: no images found.");
        }

        return new ValidationSet(names, size, pixels.ToArray(), [.. labels], source.Description);
    }
}
