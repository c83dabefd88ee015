namespace ZetaPrep.Training;

/// <summary>Per-step learning rate: linear warm-up to the base rate, then cosine decay to zero at the last step.</summary>
public sealed record LearningRateSchedule(double BaseRate, long WarmupSteps, long TotalSteps)
{
    /// <summary>
    /// The schedule of a run: <paramref name="warmupEpochs"/> of warm-up, but at most half the run's steps, so that a
    /// run of --warmup-epochs or fewer epochs still decays (it used to end at the peak rate), then cosine to zero at
    /// the run's last step. A resumed run with other --epochs continues on the schedule for its new total.
    /// </summary>
    public static LearningRateSchedule ForRun(double baseRate, double warmupEpochs, long stepsPerEpoch, int epochs)
    {
        var total = stepsPerEpoch * epochs;
        return new LearningRateSchedule(baseRate, Math.Min((long)Math.Round(warmupEpochs * stepsPerEpoch), total / 2), total);
    }

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
