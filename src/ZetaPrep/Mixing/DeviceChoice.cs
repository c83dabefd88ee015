namespace ZetaPrep.Mixing;

/// <summary>Where the mixing kernel runs: CUDA when available (auto), or forced.</summary>
public enum DeviceChoice
{
    Auto,
    Cpu,
    Cuda,
}
