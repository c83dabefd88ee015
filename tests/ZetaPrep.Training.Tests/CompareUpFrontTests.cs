namespace ZetaPrep.Training.Tests;

/// <summary>compare's refusals before any work, in compare's own terms, and what a failed compare leaves behind.</summary>
public sealed class CompareUpFrontTests
{
    private static readonly string[] Classes = ["blue", "green"];

    private static string[] Args(string train, string val, string outDir, params string[] more) => CompareArgs.Tiny(train, val, outDir, more);

    [Fact]
    public async Task Compare_NLargerThanTheGenerationBatch_NamesTheFixedLimit_NotBatchSize()
    {
        using var tmp = new TempDir();
        var r = await TrainFixtures.RunCliAsync(Args(tmp.Path, tmp.Path, tmp.Sub("o"), "--methods", "none,zeta", "--n", "100"));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("--n 100: compare generates in batches of 64 inputs (fixed; --batch-size is the training batch)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("give --n 64 or less", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("raise --batch-size", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Sub("o")));
    }

    [Fact]
    public async Task Compare_DIntSampleOverTheArrayLimit_IsRefusedBeforeAnyGeneration()
    {
        using var tmp = new TempDir();
        var train = tmp.Sub("train");
        TrainFixtures.ColourFolder(train, Classes, perClass: 22, seed: 1);
        var outDir = tmp.Sub("o");

        // 44 images × 3·4096² bytes = 2.1 GiB > Array.MaxLength: the D_int step would crash after all the training.
        var r = await TrainFixtures.RunCliAsync(Args(train, train, outDir, "--size", "4096", "--max-samples", "1000"));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("--size 4096 with --max-samples 1000: 44 images × 3·4096² bytes", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("give --max-samples 42 or less at this size", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Compare_UnknownMethod_NamesMethods_AndSaysTheZetaCutmixSwitchCannotBeGiven()
    {
        using var tmp = new TempDir();
        var r = await TrainFixtures.RunCliAsync(Args(tmp.Path, tmp.Path, tmp.Sub("o"), "--methods", "none,bogus"));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("--methods: unknown method 'bogus'; choose from none, mixup, zeta, cutmix, cutmix+zeta, comma-separated", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("zeta,cutmix switch cannot be compared", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--method:", r.Stderr, StringComparison.Ordinal);
    }
}
