using System.Globalization;
using ZetaPrep.Mixing;

namespace ZetaPrep.Training;

/// <summary>Everything <c>zetaprep compare</c> resolves: the methods and seeds to run, and the generate/train/analyze settings shared by every run.</summary>
public sealed record ComparisonOptions
{
    /// <summary>Training images: an ImageFolder (or any input <c>zetaprep generate</c> accepts as a folder).</summary>
    public required string InputDirectory { get; init; }

    /// <summary>Output directory: shards/&lt;method&gt;-s&lt;seed&gt;, runs/&lt;method&gt;-s&lt;seed&gt;, results.md/.json/.png.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Generation methods (as <c>generate --method</c>), e.g. none, mixup, zeta.</summary>
    public required IReadOnlyList<string> Methods { get; init; }

    /// <summary>Seeds 0 … Seeds−1; each seeds both generation and training.</summary>
    public int Seeds { get; init; } = 3;

    public int Epochs { get; init; } = 10;

    /// <summary>Image side of the generated shards (training uses it too).</summary>
    public int Size { get; init; } = 32;

    public TrainArchitecture Architecture { get; init; } = TrainArchitecture.ResNet18;

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>ζ-mixup samples per output (ignored by the other methods).</summary>
    public MixCount N { get; init; } = MixCount.Parse("8");

    /// <summary>ζ-mixup exponent.</summary>
    public GammaSpec Gamma { get; init; } = GammaSpec.Fixed(2.8);

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
                throw ZetaPrepException.Usage($"--methods: '{method}' is not one method; give a comma-separated list such as none,mixup,zeta.");
            }

            MixMethodOptions.Parse(method);
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
        Require(Threads >= 1, "--threads", Threads, "at least 1");
        Require(K is null or >= 2, "--k", K ?? 0, "at least 2");
        Require(MaxSamples >= 3, "--max-samples", MaxSamples, "at least 3");
        Require(K is null || MaxSamples > K, "--max-samples", MaxSamples, "larger than --k");
    }

    private static void Require(bool ok, string option, double value, string what)
    {
        if (!ok)
        {
            throw ZetaPrepException.Usage($"{option} must be {what} (got {value.ToString(CultureInfo.InvariantCulture)}).");
        }
    }
}
