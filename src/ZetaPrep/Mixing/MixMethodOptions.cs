using System.Globalization;

namespace ZetaPrep.Mixing;

/// <summary>
/// --method and its knobs. Defaults: zeta, every output mixed (--prob 1), no label smoothing; α = 0.2 for mixup and 1.0
/// for CutMix (Zhang et al.'s and Yun et al.'s defaults); --switch-prob 0.5 (timm's) for --method zeta,cutmix.
/// </summary>
public sealed record MixMethodOptions
{
    public static MixMethodOptions Default { get; } = new();

    public MixMethod Method { get; init; } = MixMethod.Zeta;

    /// <summary>--method zeta,cutmix: each output is CutMix with probability <see cref="SwitchProb"/>, else ζ.</summary>
    public bool SwitchToCutMix { get; init; }

    /// <summary>--alpha as given; null means the method's default (<see cref="MixupAlpha"/>, <see cref="CutMixAlpha"/>).</summary>
    public double? Alpha { get; init; }

    /// <summary>ε in y ← y(1−ε) + ε/K, applied to every source label before mixing (as timm does).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Fraction of outputs that are mixed, decided per output from the seed; the rest are resized originals.</summary>
    public double Prob { get; init; } = 1.0;

    /// <summary>Only with <see cref="SwitchToCutMix"/>: per-output probability of CutMix instead of ζ.</summary>
    public double SwitchProb { get; init; } = 0.5;

    public double MixupAlpha => Alpha ?? 0.2;

    public double CutMixAlpha => Alpha ?? 1.0;

    /// <summary>The --method value: zeta, mixup, cutmix, cutmix+zeta, none or zeta,cutmix.</summary>
    public string Name => SwitchToCutMix ? "zeta,cutmix" : NameOf(Method);

    /// <summary>The α actually used, for the manifest; null when the method draws no λ.</summary>
    public double? ResolvedAlpha => Method switch
    {
        MixMethod.Mixup => MixupAlpha,
        MixMethod.CutMix or MixMethod.CutMixZeta => CutMixAlpha,
        _ => SwitchToCutMix ? CutMixAlpha : null,
    };

    /// <summary>The switch probability actually used, for the manifest: 0 without zeta,cutmix.</summary>
    public double ResolvedSwitchProb => SwitchToCutMix ? SwitchProb : 0.0;

    public static string NameOf(MixMethod method) => method switch
    {
        MixMethod.Zeta => "zeta",
        MixMethod.Mixup => "mixup",
        MixMethod.CutMix => "cutmix",
        MixMethod.CutMixZeta => "cutmix+zeta",
        MixMethod.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>Parses the CLI values; every bad value is a one-line usage error naming the option.</summary>
    public static MixMethodOptions Parse(string method, double? alpha = null, double labelSmoothing = 0, double prob = 1, double? switchProb = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        var (kind, switches) = method.Trim().ToLowerInvariant() switch
        {
            "zeta" => (MixMethod.Zeta, false),
            "mixup" => (MixMethod.Mixup, false),
            "cutmix" => (MixMethod.CutMix, false),
            "cutmix+zeta" or "zeta+cutmix" => (MixMethod.CutMixZeta, false),
            "none" => (MixMethod.None, false),
            "zeta,cutmix" => (MixMethod.Zeta, true),
            _ => throw ZetaPrepException.Usage($"--method: unknown method '{method}'; choose zeta, mixup, cutmix, cutmix+zeta, none or zeta,cutmix."),
        };
        if (switchProb is not null && !switches)
        {
            throw ZetaPrepException.Usage($"--switch-prob: only applies to --method zeta,cutmix (got --method {method}).");
        }
        var options = new MixMethodOptions
        {
            Method = kind,
            SwitchToCutMix = switches,
            Alpha = alpha,
            LabelSmoothing = labelSmoothing,
            Prob = prob,
            SwitchProb = switchProb ?? 0.5,
        };
        options.Validate();
        return options;
    }

    /// <summary>Throws a usage error for a value out of range.</summary>
    public void Validate()
    {
        if (Alpha is { } a)
        {
            if (!(a > 0) || !double.IsFinite(a))
            {
                throw ZetaPrepException.Usage($"--alpha: must be a finite number > 0 (got {Format(a)}).");
            }
            if (ResolvedAlpha is null)
            {
                throw ZetaPrepException.Usage($"--alpha: only applies to mixup and cutmix methods (got --method {Name}).");
            }
        }
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1))
        {
            throw ZetaPrepException.Usage($"--label-smoothing: must be in [0, 1) (got {Format(LabelSmoothing)}).");
        }
        if (!(Prob >= 0 && Prob <= 1))
        {
            throw ZetaPrepException.Usage($"--prob: must be in [0, 1] (got {Format(Prob)}).");
        }
        if (!(SwitchProb >= 0 && SwitchProb <= 1))
        {
            throw ZetaPrepException.Usage($"--switch-prob: must be in [0, 1] (got {Format(SwitchProb)}).");
        }
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
