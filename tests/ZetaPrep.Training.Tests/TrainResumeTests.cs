using System.Text.Json;

namespace ZetaPrep.Training.Tests;

/// <summary>--resume: the epochs it trains to, the paths it compares, and the schedule of short runs.</summary>
public sealed class TrainResumeTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    private static string[] Train(string shards, string val, string run, params string[] more) =>
        ["train", "--data", shards, "--val", val, "--size", "16", "--batch-size", "2", "--threads", "1", "--device", "cpu", "--out", run, "--quiet", .. more];

    /// <summary>
    /// The resume tests' rate: a full-rate SGD step of a fresh ResNet on 3 images at 16² (1×1 maps for the last
    /// BatchNorms) can overflow by itself, run to run; these tests are about the run's files, not its learning.
    /// </summary>
    private const string Lr = "1e-4";

    private static double[] Lrs(string run) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("lr").GetDouble())];

    [Fact]
    public async Task Resume_WithoutEpochs_KeepsTheRunsEpochs_MoreEpochsGrowItWithANote()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        var first = await TrainFixtures.RunCliAsync(Train(shards, val, run, "--lr", Lr, "--epochs", "2"));
        Assert.True(first.ExitCode == 0, first.Stderr);
        var metrics = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));

        // --epochs left out: the finished 2-epoch run stays a 2-epoch run (it was extended to the default 10).
        var same = await TrainFixtures.RunCliAsync(Train(shards, val, run, "--lr", Lr, "--resume"));
        Assert.True(same.ExitCode == 0, same.Stderr);
        // It trained nothing, and says so (it had printed "trained resnet18 for 2 epoch(s)", QA).
        Assert.StartsWith($"nothing to train: resnet18 in {run} had already trained 2 epoch(s) on cpu: last val accuracy ", same.Stdout, StringComparison.Ordinal);
        Assert.Equal("", same.Stderr);
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(run, "metrics.jsonl")));
        Assert.Equal(2, RunConfig.Read(Path.Combine(run, "config.json")).Epochs);

        // An explicit larger --epochs grows the run, saying that the schedule is re-spread.
        var grown = await TrainFixtures.RunCliAsync(Train(shards, val, run, "--lr", Lr, "--resume", "--epochs", "3"));
        Assert.True(grown.ExitCode == 0, grown.Stderr);
        Assert.Equal("zetaprep: note: --epochs 3 changes the run's 2 epochs: the learning rate of epochs 3–3 follows the warm-up + cosine schedule re-spread over 3 epochs, while epochs 1–2 followed the 2-epoch one, so the result differs from a fresh 3-epoch run.", grown.Stderr.Trim());
        Assert.StartsWith("trained resnet18 for 3 epoch(s) on cpu", grown.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, Lrs(run).Length);
        Assert.Equal(3, RunConfig.Read(Path.Combine(run, "config.json")).Epochs);
    }

    [Fact]
    public async Task Config_RecordsShardValAndPretrainedAbsolutely_SoResumeFromElsewhereIsAccepted()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 1);
        var valShards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 1, name: "val-shards");
        var weights = tmp.Sub("weights.pt");
        using (var model = ModelFactory.Create(TrainArchitecture.ResNet18, 3))
        {
            model.save(weights);
        }

        // Relative to this process's working directory, as a user types them.
        var relativeVal = Path.GetRelativePath(Environment.CurrentDirectory, valShards);
        var relativeWeights = Path.GetRelativePath(Environment.CurrentDirectory, weights);
        Assert.False(Path.IsPathRooted(relativeVal));
        var run = tmp.Sub("run");
        var first = await TrainFixtures.RunCliAsync(Train(shards, relativeVal, run, "--lr", Lr, "--epochs", "1", "--pretrained", relativeWeights));
        Assert.True(first.ExitCode == 0, first.Stderr);
        var config = RunConfig.Read(Path.Combine(run, "config.json"));
        Assert.Equal(valShards, config.Validation);
        Assert.Equal(weights, config.Pretrained);

        // The same files by absolute path (as from another working directory): the same run.
        var resumed = await TrainFixtures.RunCliAsync(Train(shards, valShards, run, "--lr", Lr, "--resume", "--epochs", "2", "--pretrained", weights));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(2, Lrs(run).Length);
    }

    [Fact]
    public async Task Train_WithNoMoreEpochsThanWarmUp_StillDecays()
    {
        using var tmp = new TempDir();
        // 9 rows in steps of 2: 4 steps; the default 1 warm-up epoch is capped at half of them, so the last step decays.
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        var r = await TrainFixtures.RunCliAsync(Train(shards, val, run, "--epochs", "1"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(0.05, Lrs(run).Single(), 9);

        var schedule = LearningRateSchedule.ForRun(0.1, warmupEpochs: 5, stepsPerEpoch: 10, epochs: 3);
        Assert.Equal(15, schedule.WarmupSteps);
        Assert.Equal(0.1, schedule.At(14), 12);
        Assert.True(schedule.At(29) < 0.002);
        Assert.Equal(10, LearningRateSchedule.ForRun(0.1, warmupEpochs: 1, stepsPerEpoch: 10, epochs: 6).WarmupSteps);
    }
}
