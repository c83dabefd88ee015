namespace ZetaPrep.Training;

/// <summary>The optimiser: SGD with Nesterov momentum 0.9, or AdamW.</summary>
public enum OptimizerKind
{
    Sgd,
    AdamW,
}
