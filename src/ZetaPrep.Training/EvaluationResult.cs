namespace ZetaPrep.Training;

/// <summary>Mean cross-entropy and metrics of a model on a validation set.</summary>
public sealed record EvaluationResult(double Loss, ClassificationMetrics Metrics, int Images);
