using System.Globalization;
using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Training;

/// <summary>Everything <c>zetaprep compare</c> resolves: the methods and seeds to run, and the generate/train/analyze settings shared by every run.</summary>
public sealed record ComparisonOptions
{
    /// <summary>Training images: an ImageFolder (or any input <c>zetaprep generate</c> accepts as a folder).</summary>
    public required string InputDirectory { get; init; }

    /// <summary>Output directory: shards/&lt;method&gt;-s&lt;seed&gt;, runs/&lt;method&gt;-s&lt;seed&gt;, results.md/.json/.png.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Generation methods (as <c>generate --method</c>), e.g. none, mixup, zeta; generate's <c>zeta,cutmix</c> switch is not one of them.</summary>
    public required IReadOnlyList<string> Methods { get; init; }

    /// <summary>The --val path as given (recorded in results.json as a full path); null when the validation source has none.</summary>
    public string? ValidationPath { get; init; }

    /// <summary>Seeds 0 … Seeds−1; each seeds both generation and training.</summary>
    public int Seeds { get; init; } = 3;

    public int Epochs { get; init; } = 10;

    /// <summary>Image side of the generated shards (training uses it too).</summary>
    public int Size { get; init; } = 32;

    public TrainArchitecture Architecture { get; init; } = TrainArchitecture.ResNet18;

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Inputs per generation batch (outputs mix samples of one batch); fixed, so --n can be at most this.</summary>
    public const int GenerateBatchSize = 64;

    /// <summary>generate's default --n, what the methods without ζ weights are generated (and recorded) with.</summary>
    public static readonly MixCount DefaultN = MixCount.Parse("8");

    /// <summary>generate's default --gamma, what the methods without ζ weights are generated (and recorded) with.</summary>
    public static readonly GammaSpec DefaultGamma = GammaSpec.Fixed(2.8);

    /// <summary>ζ-mixup samples per output (ignored by the other methods).</summary>
    public MixCount N { get; init; } = DefaultN;

    /// <summary>ζ-mixup exponent (ignored by the other methods).</summary>
    public GammaSpec Gamma { get; init; } = DefaultGamma;

    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>The default <see cref="K"/>.</summary>
    public const int DefaultK = 128;

    /// <summary>Neighbours for the intrinsic-dimension check; null = <see cref="DefaultK"/>, lowered to fit a small input's sample.</summary>
    public int? K { get; init; }

    /// <summary>Images sampled for the intrinsic-dimension check.</summary>
    public int MaxSamples { get; init; } = 1000;

    /// <summary>Throws a usage <see cref="ZetaPrepException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (Methods.Count == 0)
        {
            throw ZetaPrepException.Usage("--methods: give at least one method, e.g. none,mixup,zeta.");
        }

        foreach (var method in Methods)
        {
            if (method.Contains(',', StringComparison.Ordinal) || method.Length == 0)
            {
                throw ZetaPrepException.Usage($"--methods: '{method}' is not one method; give a comma-separated list such as none,mixup,zeta ({SwitchNote}).");
            }

            if (!Known.Contains(method.Trim(), StringComparer.OrdinalIgnoreCase) && !method.Trim().Equals("zeta+cutmix", StringComparison.OrdinalIgnoreCase))
            {
                throw ZetaPrepException.Usage($"--methods: unknown method '{method}'; choose from {string.Join(", ", Known)}, comma-separated ({SwitchNote}).");
            }
        }

        if (Methods.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Methods.Count)
        {
            throw ZetaPrepException.Usage($"--methods {string.Join(',', Methods)}: a method is listed twice.");
        }

        Require(Seeds >= 1, "--seeds", Seeds, "at least 1");
        Require(Epochs >= 1, "--epochs", Epochs, "at least 1");
        Require(Size is >= 8 and <= 4096, "--size", Size, "between 8 and 4096");
        // BatchNorm in training mode needs two images per step (one gives a NaN running variance at small sizes).
        Require(BatchSize is >= 2 and <= TrainOptions.MaxBatchSize, "--batch-size", BatchSize, "from 2 to 65536");
        Require(Threads is >= 1 and <= GenerateOptions.MaxThreads, "--threads", Threads, TrainOptions.ThreadRange);
        Require(K is null or >= 2, "--k", K ?? 0, "at least 2");
        Require(MaxSamples >= 3, "--max-samples", MaxSamples, "at least 3");
        Require(K is null || MaxSamples > K, "--max-samples", MaxSamples, "larger than --k");
        if (N.N is int n && n > GenerateBatchSize && Methods.Any(UsesZeta))
        {
            throw ZetaPrepException.Usage(string.Create(CultureInfo.InvariantCulture,
                $"--n {n}: compare generates in batches of {GenerateBatchSize} inputs (fixed; --batch-size is the training batch) and each output mixes samples of one batch, so --n can be at most {GenerateBatchSize}: give --n {GenerateBatchSize} or less, or --n batch."));
        }
    }

    /// <summary>The methods --methods takes: generate's, less its comma-spelled switch.</summary>
    public static IReadOnlyList<string> Known { get; } = ["none", "mixup", "zeta", "cutmix", "cutmix+zeta"];

    private const string SwitchNote = "generate's zeta,cutmix switch cannot be compared: its comma would split it into zeta and cutmix";

    /// <summary>True for the methods with ζ weights, the only ones --n and --gamma change.</summary>
    public static bool UsesZeta(string method) => MixMethodOptions.Parse(method).Method is MixMethod.Zeta or MixMethod.CutMixZeta;

    /// <summary>True when any of <see cref="Methods"/> has ζ weights.</summary>
    public bool AnyZeta => Methods.Any(UsesZeta);

    private static void Require(bool ok, string option, double value, string what)
    {
        if (!ok)
        {
            throw ZetaPrepException.Usage($"{option} must be {what} (got {value.ToString(CultureInfo.InvariantCulture)}).");
        }
    }
}
