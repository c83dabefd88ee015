namespace ZetaPrep.Training;

/// <summary>One (method, seed) run of a comparison: its best epoch (by validation accuracy = micro-F1, as best.pt) and that epoch's figures.</summary>
/// <param name="Method">Generation method.</param>
/// <param name="Seed">Seed of generation and training.</param>
/// <param name="BestEpoch">The epoch with the highest validation accuracy (the first on ties).</param>
/// <param name="ValAccuracy">Validation accuracy at the best epoch.</param>
/// <param name="ValF1Micro">Validation micro-F1 at the best epoch (equals accuracy for single-label data).</param>
/// <param name="ValF1Macro">Validation macro-F1 at the best epoch.</param>
/// <param name="ImagesPerS">Training images/s, mean over the run's epochs.</param>
/// <param name="Reused">True when the run was already complete and only its metrics were read.</param>
public sealed record ComparisonRun(string Method, int Seed, int BestEpoch, double ValAccuracy, double ValF1Micro, double ValF1Macro, double ImagesPerS, bool Reused);
