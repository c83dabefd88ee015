namespace ZetaPrep.Inspection;

/// <summary>What <see cref="DatasetVerifier"/> found: problems (each one line naming file and row) fail the check; warnings do not.</summary>
/// <param name="Shards">Shards read and checked (a missing one is a problem, not a checked shard).</param>
/// <param name="Rows">Rows read from them.</param>
public sealed record VerifyReport(IReadOnlyList<string> Problems, IReadOnlyList<string> Warnings, int Shards, long Rows)
{
    public bool Ok => Problems.Count == 0 && RunWriting is null;

    /// <summary>
    /// Set (one line saying so) when a live zetaprep run holds the output's lock: the output is still being written, so
    /// nothing was checked and the report is not OK; verify it after that run ends.
    /// </summary>
    public string? RunWriting { get; init; }

    /// <summary>Shards manifest.json lists; more than <see cref="Shards"/> when some could not be checked.</summary>
    public int ShardsListed { get; init; }
}
