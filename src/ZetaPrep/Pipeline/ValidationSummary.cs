namespace ZetaPrep.Pipeline;

/// <summary>What <c>generate --validate-only</c> found: inputs listed, how many were left out, their fingerprint, and the record it wrote.</summary>
public sealed record ValidationSummary(int Inputs, int Skipped, string Fingerprint, string RecordPath);
