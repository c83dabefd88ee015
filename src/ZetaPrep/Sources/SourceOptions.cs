namespace ZetaPrep.Sources;

/// <summary>How the user named the input (the CLI's `--in` family); <see cref="SourceResolver"/> turns it into a source.</summary>
public sealed record SourceOptions
{
    /// <summary>An ImageFolder, a folder of official downloads, a preset name (e.g. isic2017), or with <see cref="Labels"/> a folder or zip of images.</summary>
    public required string Input { get; init; }

    /// <summary>Where preset folders live; null = $ZETAPREP_DATA, else ./data.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>train (default), validation or test.</summary>
    public string Split { get; init; } = "train";

    /// <summary>A label CSV for a custom dataset; needs <see cref="IdColumn"/>.</summary>
    public string? Labels { get; init; }

    public string? IdColumn { get; init; }

    /// <summary>A class-name (or index) column; null = every other column is a one-hot/probability column.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>Threads that may list the input (ImageFolder: class folders at once); 0 = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>ImageFolder: class folders this many levels below the input.</summary>
    public int ClassDepth { get; init; } = 1;

    /// <summary>Globs of files to skip (ImageFolder and labelled sources).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Drop the second image of each published duplicate pair (presets that list duplicates: ISIC 2020).</summary>
    public bool ExcludeDuplicates { get; init; }
}
