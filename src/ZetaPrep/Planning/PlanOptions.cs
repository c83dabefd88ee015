using ZetaPrep.Mixing;

namespace ZetaPrep.Planning;

/// <summary>What the plan depends on besides the input count. Defaults: batch 64, 1 pass, seed 0, 1000 rows per shard, no originals.</summary>
public sealed record PlanOptions
{
    public MixCount N { get; }

    public GammaSpec Gamma { get; }

    public int BatchSize { get; }

    public int Passes { get; }

    public ulong Seed { get; }

    public int ShardRows { get; }

    /// <summary>Each batch also yields its B resized originals (before its B mixed rows): 2B rows per batch.</summary>
    public bool KeepOriginals { get; }

    /// <summary>--method and its knobs (mixup, CutMix, smoothing, --prob); default ζ-mixup only.</summary>
    public MixMethodOptions Method { get; init; } = MixMethodOptions.Default;

    /// <summary>Output side S: CutMix boxes are decided in the plan in pixels of the S×S output.</summary>
    public int ImageSize { get; init; } = 224;

    public PlanOptions(MixCount n, GammaSpec gamma, int batchSize = 64, int passes = 1, ulong seed = 0, int shardRows = 1000, bool keepOriginals = false)
    {
        ArgumentNullException.ThrowIfNull(n);
        ArgumentNullException.ThrowIfNull(gamma);
        if (batchSize < 2)
        {
            throw ZetaPrepException.Usage($"--batch-size: must be ≥ 2 (got {batchSize}); outputs mix samples of one batch.");
        }
        if (passes < 1)
        {
            throw ZetaPrepException.Usage($"--passes: must be ≥ 1 (got {passes}).");
        }
        if (shardRows < 1)
        {
            throw ZetaPrepException.Usage($"--shard-rows: must be ≥ 1 (got {shardRows}).");
        }
        N = n;
        Gamma = gamma;
        BatchSize = batchSize;
        Passes = passes;
        Seed = seed;
        ShardRows = shardRows;
        KeepOriginals = keepOriginals;
    }

    /// <summary>Throws a usage error for options that contradict each other: an unmixed output is a resized original, so
    /// <see cref="KeepOriginals"/> beside <c>--method none</c> or <c>--prob</c> below 1 would write those originals twice.</summary>
    public void Validate()
    {
        Method.Validate();
        if (!KeepOriginals)
        {
            return;
        }
        if (Method.Method == MixMethod.None)
        {
            throw ZetaPrepException.Usage("--keep-originals: --method none already writes each input once as its resized original, so every one would appear twice; drop --keep-originals.");
        }
        if (Method.Prob < 1)
        {
            throw ZetaPrepException.Usage(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--keep-originals: with --prob {Method.Prob:R} the outputs left unmixed are resized originals too, so those inputs would appear twice; use --prob 1 with --keep-originals (every original once, then every output mixed), or drop --keep-originals."));
        }
    }
}
