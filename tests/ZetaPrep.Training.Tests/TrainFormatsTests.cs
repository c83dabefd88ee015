using System.Text.Json;
using ZetaPrep.Imaging;

namespace ZetaPrep.Training.Tests;

/// <summary>train, evaluate and compare's readers take a generate output in each of its formats.</summary>
public sealed class TrainFormatsTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];
    private static readonly string[] Formats = ["parquet", "webdataset", "folder"];

    [Fact]
    public async Task Every_output_format_feeds_training_the_same_batches()
    {
        using var tmp = new TempDir();
        var images = tmp.Sub("images");
        TrainFixtures.ColourFolder(images, Classes, perClass: 6, seed: 1);
        var opened = new List<ShardDirectory>();
        foreach (var format in Formats)
        {
            var g = await TrainFixtures.RunCliAsync("generate", "--in", images, "--out", tmp.Sub(format), "--n", "3", "--batch-size", "8",
                "--shard-rows", "5", "--size", "16", "--format", format, "--quiet");
            Assert.True(g.ExitCode == 0, g.Stderr);
            opened.Add(await ShardDirectory.OpenAsync(tmp.Sub(format), "--data", CancellationToken.None));
        }

        foreach (var d in opened)
        {
            Assert.Equal((18L, 16, opened[0].Files.Count), (d.Rows, d.ImageSize, d.Files.Count));
            Assert.Equal(Classes, d.ClassNames);
            Assert.Equal(opened[0].InputFingerprint, d.InputFingerprint);
        }
        Assert.Equal(Formats, opened.Select(d => d.Format.Name));
        Assert.True(opened[0].Files.Count > 1);

        // Two epochs of augmented batches: the same rows in the same order, so the same pixels and soft labels.
        var expected = await BatchesAsync(opened[0]);
        Assert.Equal(2 * 5, expected.Count);
        foreach (var d in opened.Skip(1))
        {
            var batches = await BatchesAsync(d);
            Assert.Equal(expected.Count, batches.Count);
            for (var i = 0; i < batches.Count; i++)
            {
                Assert.Equal(expected[i].Count, batches[i].Count);
                Assert.True(expected[i].Pixels.AsSpan().SequenceEqual(batches[i].Pixels), $"{d.Format.Name}: batch {i}'s pixels differ");
                Assert.Equal(expected[i].Labels, batches[i].Labels);
            }
        }
    }

    [Fact]
    public async Task Train_and_evaluate_on_WebDataset_and_folder_outputs_match_Parquet()
    {
        using var tmp = new TempDir();
        var images = tmp.Sub("images");
        TrainFixtures.ColourFolder(images, Classes, perClass: 4, seed: 1);
        var val = tmp.Sub("val-images");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var lines = new List<JsonElement>();
        var evaluations = new List<string>();
        foreach (var format in Formats)
        {
            var data = tmp.Sub("data-" + format);
            var g = await TrainFixtures.RunCliAsync("generate", "--in", images, "--out", data, "--n", "3", "--batch-size", "6", "--size", "16", "--format", format, "--quiet");
            Assert.True(g.ExitCode == 0, g.Stderr);
            // Validation shards of originals in the same format: --val takes any generate output of --method none.
            var originals = tmp.Sub("val-" + format);
            var o = await TrainFixtures.RunCliAsync("generate", "--in", val, "--out", originals, "--method", "none", "--size", "16", "--format", format, "--quiet");
            Assert.True(o.ExitCode == 0, o.Stderr);

            var run = tmp.Sub("run-" + format);
            var r = await TrainFixtures.RunCliAsync("train", "--data", data, "--val", originals, "--epochs", "1", "--size", "16", "--batch-size", "6",
                "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
            Assert.True(r.ExitCode == 0, $"{format}: {r.Stderr}");
            lines.Add(JsonDocument.Parse(File.ReadLines(Path.Combine(run, "metrics.jsonl")).Single()).RootElement);
            var config = RunConfig.Read(Path.Combine(run, "config.json"));
            Assert.Equal((12L, 16), (config.Data[0].Rows, config.Data[0].ImageSize));

            var e = await TrainFixtures.RunCliAsync("evaluate", "--model", Path.Combine(run, "best.pt"), "--val", originals, "--json", "--device", "cpu");
            Assert.True(e.ExitCode == 0, $"{format}: {e.Stderr}");
            using var doc = JsonDocument.Parse(e.Stdout);
            Assert.Equal(6, doc.RootElement.GetProperty("images").GetInt32());
            evaluations.Add(doc.RootElement.GetProperty("val_loss").GetRawText());
        }

        // One thread, one seed, the same batches: the same step, so the same losses and confusion matrix.
        foreach (var key in new[] { "train_loss", "val_loss", "val_accuracy", "val_confusion" })
        {
            Assert.Equal(lines[0].GetProperty(key).GetRawText(), lines[1].GetProperty(key).GetRawText());
            Assert.Equal(lines[0].GetProperty(key).GetRawText(), lines[2].GetProperty(key).GetRawText());
        }
        Assert.Equal(evaluations[0], evaluations[1]);
        Assert.Equal(evaluations[0], evaluations[2]);
    }

    [Fact]
    public async Task A_mixed_WebDataset_output_as_val_and_tars_without_their_manifest_are_refused()
    {
        using var tmp = new TempDir();
        var images = tmp.Sub("images");
        TrainFixtures.ColourFolder(images, Classes, perClass: 3, seed: 1);
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var mixed = tmp.Sub("mixed-wds");
        var g = await TrainFixtures.RunCliAsync("generate", "--in", images, "--out", mixed, "--n", "3", "--batch-size", "9", "--size", "16", "--format", "webdataset", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var run = tmp.Sub("run");

        var asVal = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", mixed, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, asVal.ExitCode);
        Assert.StartsWith($"zetaprep: error: --val {mixed}: shard-000000.tar holds mixed images (", asVal.Stderr, StringComparison.Ordinal);
        Assert.Single(asVal.Stderr.Trim().Split('\n'));

        File.Delete(Path.Combine(mixed, "manifest.json"));
        var bare = await TrainFixtures.RunCliAsync("train", "--data", mixed, "--val", images, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, bare.ExitCode);
        Assert.Equal($"zetaprep: error: --data {mixed}: holds WebDataset shards but no manifest.json, which names their classes; give the whole output directory of 'zetaprep generate', manifest.json included.", bare.Stderr.Trim());
        Assert.False(Directory.Exists(run));

        // As --val too: it was taken for an ImageFolder, "no images found; expected one sub-folder per class".
        var bareVal = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", mixed, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, bareVal.ExitCode);
        Assert.Equal($"zetaprep: error: --val {mixed}: holds WebDataset shards but no manifest.json, which names their classes; give the whole output directory of 'zetaprep generate', manifest.json included.", bareVal.Stderr.Trim());
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public async Task A_folder_output_without_its_manifest_is_refused_as_such_not_as_a_bad_Parquet_shard()
    {
        using var tmp = new TempDir();
        var images = tmp.Sub("images");
        TrainFixtures.ColourFolder(images, Classes, perClass: 3, seed: 1);
        var folder = tmp.Sub("folder");
        var g = await TrainFixtures.RunCliAsync("generate", "--in", images, "--out", folder, "--method", "none", "--size", "16", "--format", "folder", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        File.Delete(Path.Combine(folder, "manifest.json"));
        var run = tmp.Sub("run");

        // Its labels.parquet (file names, no images) used to be read as a Parquet shard: "is not a ZetaPrep Parquet shard", exit 1.
        var asData = await TrainFixtures.RunCliAsync("train", "--data", folder, "--val", images, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, asData.ExitCode);
        Assert.Equal($"zetaprep: error: --data {folder}: holds folder-format shards (labels/*.parquet) but no manifest.json, which names their classes; give the whole output directory of 'zetaprep generate', manifest.json included.", asData.Stderr.Trim());
        Assert.False(Directory.Exists(run));

        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var asVal = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", folder, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, asVal.ExitCode);
        Assert.StartsWith($"zetaprep: error: --val {folder}: holds folder-format shards (labels/*.parquet) but no manifest.json", asVal.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public async Task A_missing_or_changed_image_of_a_folder_output_is_named_with_its_directory()
    {
        using var tmp = new TempDir();
        var images = tmp.Sub("images");
        TrainFixtures.ColourFolder(images, Classes, perClass: 3, seed: 1);
        var folder = tmp.Sub("folder");
        var g = await TrainFixtures.RunCliAsync("generate", "--in", images, "--out", folder, "--n", "3", "--batch-size", "9", "--size", "16", "--format", "folder", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var run = tmp.Sub("run");

        // With several --data directories, "images/00000004.png" alone does not say which one lost it.
        File.Copy(Path.Combine(folder, "images", "00000005.png"), Path.Combine(folder, "images", "00000004.png"), overwrite: true);
        var changed = await TrainFixtures.RunCliAsync("train", "--data", shards, folder, "--val", images, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, changed.ExitCode);
        Assert.Equal($"zetaprep: error: {folder}: images/00000004.png: SHA-256 differs from the one recorded in labels/train-00000-of-00001.parquet; the image was changed or damaged; rerun the generate command with --resume, which redoes that shard.", changed.Stderr.Trim());
        Assert.False(Directory.Exists(run));

        File.Delete(Path.Combine(folder, "images", "00000004.png"));
        var missing = await TrainFixtures.RunCliAsync("train", "--data", shards, folder, "--val", images, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"zetaprep: error: {folder}: images/00000004.png: listed in labels/train-00000-of-00001.parquet but missing; rerun the generate command with --resume, which redoes that shard.", missing.Stderr.Trim());
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public async Task A_directory_given_as_itself_and_as_its_data_folder_is_refused_and_parquet_beside_a_labels_folder_is_read()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        var data = Path.Combine(shards, "data");
        // The same shard files through two --data directories: every row twice per epoch (or a crash on the path keys).
        var twice = await TrainFixtures.RunCliAsync("train", "--data", shards, data, "--val", val, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, twice.ExitCode);
        var shard = Directory.GetFiles(data, "*.parquet").Order(StringComparer.Ordinal).First();
        Assert.Equal($"zetaprep: error: --data {data}: reads {shard}, which --data {shards} reads too; each row would be trained on twice per epoch: give each shard directory once.", twice.Stderr.Trim());
        Assert.False(Directory.Exists(run));

        // Parquet shards with a labels/ folder of their own beside them (no manifest): Parquet shards, not a folder output.
        var loose = tmp.Sub("loose");
        Directory.CreateDirectory(Path.Combine(loose, "labels"));
        File.Copy(shard, Path.Combine(loose, Path.GetFileName(shard)));
        File.Copy(shard, Path.Combine(loose, "labels", "notes.parquet"));
        var opened = await ShardDirectory.OpenAsync(loose, "--data", CancellationToken.None);
        Assert.Equal(("parquet", 1), (opened.Format.Name, opened.Files.Count));
    }

    [Fact]
    public async Task A_shuffle_buffer_larger_than_the_data_shuffles_the_whole_epoch()
    {
        // --shuffle-buffer 2147483647 (the most it takes) had the stream ask for a list of that capacity: out of memory.
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var d = await ShardDirectory.OpenAsync(shards, "--data", CancellationToken.None);
        var batches = await BatchesAsync(d, int.MaxValue);
        Assert.Equal(2 * d.Rows, batches.Sum(b => (long)b.Count));
        // The same batches as a buffer just over the epoch's rows (which also never fills).
        var justOver = await BatchesAsync(d, (int)d.Rows + 1);
        Assert.Equal(justOver.Select(b => (b.Index, b.Count)), batches.Select(b => (b.Index, b.Count)));
        Assert.All(batches.Zip(justOver), p => Assert.True(p.First.Pixels.AsSpan().SequenceEqual(p.Second.Pixels) && p.First.Labels.AsSpan().SequenceEqual(p.Second.Labels)));
    }

    private static async Task<List<TrainBatch>> BatchesAsync(ShardDirectory d, int shuffleBuffer = 8)
    {
        var stream = new ShardBatchStream(d.Files, [d], d.Rows, Classes.Length, new SkiaImageDecoder(), 16, batchSize: 4, workers: 2,
            shuffleBuffer, AugmentMode.FlipCrop, seed: 5);
        var batches = new List<TrainBatch>();
        for (var epoch = 0; epoch < 2; epoch++)
        {
            await foreach (var batch in stream.ReadEpochAsync(epoch, CancellationToken.None))
            {
                batches.Add(batch);
            }
        }
        return batches;
    }
}
