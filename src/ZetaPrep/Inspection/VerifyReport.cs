namespace ZetaPrep.Inspection;

/// <summary>What <see cref="DatasetVerifier"/> found: problems (each one line naming file and row) fail the check; warnings do not.</summary>
public sealed record VerifyReport(IReadOnlyList<string> Problems, IReadOnlyList<string> Warnings, int Shards, long Rows)
{
    public bool Ok => Problems.Count == 0;
}
