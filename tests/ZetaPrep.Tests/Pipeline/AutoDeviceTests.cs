using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>--device auto opens the GPU only for a run whose mixing would take the CPU about a second or more.</summary>
public sealed class AutoDeviceTests
{
    private static bool Opens(int inputs, int size, MixCount n, int batch = 32, int passes = 1, WorkerSpec? worker = null)
    {
        var plan = new PlanOptions(n, GammaSpec.Fixed(2.8), batchSize: batch, passes: passes) { ImageSize = size };
        var options = new GenerateOptions { OutputDirectory = "out", Plan = plan, Size = size, Worker = worker };
        return DatasetGenerator.GpuWorthOpening(MixPlan.Create(inputs, plan), options);
    }

    [Fact]
    public void SmallRuns_StayOnTheCpu_LargeOnesOpenTheGpu()
    {
        Assert.False(Opens(400, 224, MixCount.Of(8))); // the workload: ~0.05 s of CPU mixing
        Assert.False(Opens(4000, 224, MixCount.Of(8))); // ~0.5 s
        Assert.True(Opens(20_000, 224, MixCount.Of(8)));
        Assert.True(Opens(4000, 224, MixCount.Of(8), passes: 5)); // rows, not inputs, are what is mixed
        Assert.False(Opens(64_000, 28, MixCount.Of(8), batch: 64)); // small images: ~0.1 s
        Assert.True(Opens(64_000, 28, MixCount.Parse("batch"), batch: 512)); // the authors' B×B: every output mixes 512
        Assert.False(Opens(20_000, 224, MixCount.Of(8), worker: new WorkerSpec(0, 4))); // a worker mixes a quarter
    }
}
