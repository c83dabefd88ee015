using ZetaPrep.Mixing;

namespace ZetaPrep.Training.Tests;

/// <summary>Tests that switch a process-wide libtorch setting run alone, so no other test trains while it is switched.</summary>
[CollectionDefinition(nameof(ProcessWideTorchSettings), DisableParallelization = true)]
public sealed class ProcessWideTorchSettings;

[Collection(nameof(ProcessWideTorchSettings))]
public sealed class ResNet50CpuTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    [Fact]
    public async Task ResNet50_TrainsOnTheCpu_AndLeavesOneDnnAsItFoundIt()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 8);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 5);
        var run = tmp.Sub("run");
        var before = TorchRuntime.SwapMkldnn(true);
        Assert.NotNull(before);
        try
        {
            // With oneDNN's kernels this run died with SIGFPE in its first backward step on the dev VM (the whole test host with it).
            var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--arch", "resnet50", "--epochs", "1", "--size", "16",
                "--batch-size", "8", "--device", "cpu", "--out", run, "--quiet");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("resnet50 on cpu: libtorch's oneDNN convolution kernels are off for this run", r.Stderr, StringComparison.Ordinal);
            Assert.Single(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")));
            Assert.True(new FileInfo(Path.Combine(run, "best.pt")).Length > 90_000_000, "best.pt holds no ResNet-50 weights"); // 23.5 M float32 parameters
            Assert.True(TorchRuntime.SwapMkldnn(true)); // restored: still on after the run
        }
        finally
        {
            TorchRuntime.SwapMkldnn(before!.Value);
        }
    }
}
