using System.Text.Json;

namespace ZetaPrep.Training.Tests;

/// <summary>How an epoch's rows become steps, and the learning rate over a short run.</summary>
public sealed class TrainBatchingTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    [Fact]
    public void Steps_NeverHoldFewerThanTwoRows_AndCoverEveryRowOnce()
    {
        for (long rows = 2; rows <= 120; rows++)
        {
            for (var batchSize = 2; batchSize <= 40; batchSize++)
            {
                var steps = ShardBatchStream.StepsPerEpoch(rows, batchSize);
                var sizes = Enumerable.Range(0, (int)steps).Select(i => ShardBatchStream.BatchRows(i, rows, steps)).ToList();
                Assert.Equal(rows, sizes.Sum());
                Assert.True(sizes.Min() >= 2, $"{rows} rows in batches of {batchSize}: a step of {sizes.Min()}");
                // Only --batch-size 2 on an odd row count needs a step of batch size + 1 (3 rows).
                Assert.True(sizes.Max() <= (batchSize == 2 && rows % 2 == 1 ? 3 : batchSize), $"{rows} rows in batches of {batchSize}: a step of {sizes.Max()}");
            }
        }
    }

    [Fact]
    public async Task Train_BatchSizeTwoOnAnOddRowCount_TrainsWithoutALoneImageStep()
    {
        using var tmp = new TempDir();
        // 3 classes × 1 image = 3 rows: with --batch-size 2 the second step used to train on one image (BatchNorm NaN).
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        // A small rate: one full-rate SGD step of a fresh ResNet on 3 images at 16² (1×1 maps for the last BatchNorms) can
        // overflow by itself, run to run; the lone-image step gave NaN at any rate (1e-8 too).
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--batch-size", "2",
            "--lr", "1e-4", "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var epoch = JsonDocument.Parse(File.ReadLines(Path.Combine(run, "metrics.jsonl")).Single());
        Assert.True(double.IsFinite(epoch.RootElement.GetProperty("val_loss").GetDouble()));
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1e-8, "1e-8")]
    [InlineData(1e-10, "1e-10")]
    [InlineData(1e300, "1e300")]
    [InlineData(1000, "1000")]
    public void Numbers_InMessages_AreWrittenAsOnACommandLine(double value, string expected) =>
        Assert.Equal(expected, TrainOptions.Number(value));

    [Fact]
    public async Task Train_BatchOfMoreThanOneArrayOfPixels_IsRefusedNamingBatchSizeAndSize()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 1);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--size", "4096", "--batch-size", "64",
            "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("zetaprep: error: --batch-size 64 at --size 4096: a batch needs 3221225472 bytes of pixels", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("lower --batch-size to at most 42 or --size", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));
    }
}
