namespace ZetaPrep.Pipeline;

/// <summary>
/// What <c>generate --validate-only</c> found: inputs listed, how many were left out, their fingerprint, the record it
/// wrote, and the plan the runs that follow will carry out (rows, batches, shards).
/// </summary>
public sealed record ValidationSummary(int Inputs, int Skipped, string Fingerprint, string RecordPath, long Rows, int Batches, int Shards);
