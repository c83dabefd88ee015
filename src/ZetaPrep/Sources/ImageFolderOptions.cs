namespace ZetaPrep.Sources;

/// <summary>ImageFolder layout options: how deep the class folders sit (default 1: directly under the root) and files to skip.</summary>
/// <param name="ClassDepth">Class folders are this many levels below the root (DermoFit-like trees: 1, lesion folders inside).</param>
/// <param name="Exclude">Globs matched against file names and relative paths, e.g. `*mask*`.</param>
public sealed record ImageFolderOptions(int ClassDepth = 1, IReadOnlyList<string>? Exclude = null)
{
    public IReadOnlyList<string> Exclude { get; init; } = Exclude ?? [];

    /// <summary>The option that named the folder, for messages (train and evaluate read an ImageFolder from --val).</summary>
    public string OptionName { get; init; } = "--in";

    /// <summary>Class folders listed at once (0: one per core); the listing is the same whatever the number.</summary>
    public int Threads { get; init; }

    public void Validate()
    {
        if (ClassDepth is < 1 or > 16)
        {
            throw ZetaPrepException.Usage($"--class-depth {ClassDepth}: must be 1..16 (the number of folder levels from --in down to the class folders).");
        }
        if (Threads < 0)
        {
            throw ZetaPrepException.Usage($"--threads: must be ≥ 1, or 0 for one per core (got {Threads}).");
        }
    }
}
