namespace ZetaPrep.Training;

/// <summary>Per-step learning rate: linear warm-up to the base rate, then cosine decay to zero at the last step.</summary>
public sealed record LearningRateSchedule(double BaseRate, long WarmupSteps, long TotalSteps)
{
    /// <summary>The rate for step <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        if (step < WarmupSteps)
        {
            // (step + 1): the first step already learns; a zero rate would waste it.
            return BaseRate * (step + 1) / WarmupSteps;
        }

        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var t = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return BaseRate * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}
