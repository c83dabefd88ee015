using System.Text.Json;
using SkiaSharp;

namespace ZetaPrep.Training.Tests;

public sealed class TrainCommandTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    [Fact]
    public async Task Train_WritesRunFiles_EvaluateReloadsBest_ResumeContinues()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 8);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 4, seed: 9);
        var run = tmp.Sub("run");

        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--arch", "resnet18", "--epochs", "2", "--size", "16",
            "--batch-size", "8", "--threads", "2", "--augment", "flip-crop", "--device", "cpu", "--out", run, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("best epoch", r.Stdout, StringComparison.Ordinal);

        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, lines.Length);
        string[] keys = ["epoch", "train_loss", "val_loss", "val_accuracy", "val_balanced_accuracy", "val_f1_micro", "val_f1_macro", "images_per_s", "lr", "seconds", "val_confusion"];
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            foreach (var key in keys)
            {
                Assert.True(doc.RootElement.TryGetProperty(key, out _), $"missing {key} in {lines[i]}");
            }

            Assert.Equal(i + 1, doc.RootElement.GetProperty("epoch").GetInt32());
        }

        using (var curves = SKBitmap.Decode(Path.Combine(run, "curves.png")))
        {
            Assert.NotNull(curves);
            Assert.True(curves.Width > 500);
        }

        var config = RunConfig.Read(Path.Combine(run, "config.json"));
        Assert.Equal(Classes, config.Classes);
        Assert.Equal(16, config.Size);
        Assert.Equal(64, config.Data[0].InputFingerprint!.Length);

        var e = await TrainFixtures.RunCliAsync("evaluate", "--model", Path.Combine(run, "best.pt"), "--val", val, "--json", "--device", "cpu");
        Assert.True(e.ExitCode == 0, e.Stderr);
        using (var doc = JsonDocument.Parse(e.Stdout))
        {
            Assert.Equal(12, doc.RootElement.GetProperty("images").GetInt32());
            var best = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("val_f1_micro").GetDouble()).Max();
            Assert.Equal(best, doc.RootElement.GetProperty("val_f1_micro").GetDouble(), 6);
        }

        // More epochs and other threads: what --resume may change.
        var resumed = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "3", "--size", "16",
            "--batch-size", "8", "--threads", "1", "--augment", "flip-crop", "--device", "cpu", "--out", run, "--resume", "--quiet");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var after = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(3, after.Length);
        Assert.Equal(lines[0], after[0]);
        Assert.Equal(3, JsonDocument.Parse(after[2]).RootElement.GetProperty("epoch").GetInt32());

        // A second run into the same directory without --resume is refused.
        var again = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--resume", again.Stderr, StringComparison.Ordinal);

        // A truncated checkpoint is one line naming the file.
        var broken = tmp.Sub("broken.pt");
        var bytes = File.ReadAllBytes(Path.Combine(run, "best.pt"));
        File.WriteAllBytes(broken, bytes.AsSpan(0, bytes.Length / 3).ToArray());
        var bad = await TrainFixtures.RunCliAsync("evaluate", "--model", broken, "--val", val, "--arch", "resnet18", "--size", "16", "--device", "cpu");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("broken.pt", bad.Stderr, StringComparison.Ordinal);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Resume_WithOtherDataOrOptions_IsRefusedAndKeepsConfig()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var other = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3, name: "other", seed: 5);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var run = tmp.Sub("run");
        var first = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--batch-size", "8", "--optimizer", "adamw",
            "--threads", "1", "--device", "cpu", "--out", run, "--quiet");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var config = File.ReadAllBytes(Path.Combine(run, "config.json"));
        var metrics = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));

        var r = await TrainFixtures.RunCliAsync("train", "--data", other, "--val", val, "--epochs", "2", "--batch-size", "4", "--lr", "0.5", "--seed", "7",
            "--optimizer", "adamw", "--threads", "1", "--device", "cpu", "--out", run, "--resume", "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"--resume: --data differs (run {shards}, now {other})", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--batch-size differs (run 8, now 4)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--lr differs (run 0.001, now 0.5)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--seed differs (run 0, now 7)", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(config, File.ReadAllBytes(Path.Combine(run, "config.json")));
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(run, "metrics.jsonl")));

        // The same directory with other shard bytes (regenerated with another seed) is other data too.
        Directory.Delete(shards, recursive: true);
        Directory.Move(other, shards);
        var regenerated = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "2", "--batch-size", "8", "--optimizer", "adamw",
            "--augment", "flip-crop", "--threads", "1", "--device", "cpu", "--out", run, "--resume", "--quiet");
        Assert.Equal(2, regenerated.ExitCode);
        Assert.Contains($"--resume: --data differs (run {shards} [", regenerated.Stderr, StringComparison.Ordinal);
        Assert.Contains("--augment differs (run none, now flip-crop)", regenerated.Stderr, StringComparison.Ordinal);
        Assert.Equal(config, File.ReadAllBytes(Path.Combine(run, "config.json")));
    }

    [Fact]
    public async Task Train_RefusesInterruptedGenerationAndShardsTheManifestDoesNotList()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var manifest = Path.Combine(shards, "manifest.json");
        var complete = File.ReadAllText(manifest);
        Assert.Contains("\"complete\": true", complete, StringComparison.Ordinal);
        string[] Train(string run) => ["train", "--data", shards, "--val", val, "--epochs", "1", "--batch-size", "8", "--threads", "1", "--device", "cpu", "--out", tmp.Sub(run), "--quiet"];

        File.WriteAllText(manifest, complete.Replace("\"complete\": true", "\"complete\": false", StringComparison.Ordinal));
        var interrupted = await TrainFixtures.RunCliAsync(Train("r1"));
        Assert.Equal(1, interrupted.ExitCode);
        Assert.Single(interrupted.Stderr.Trim().Split('\n'));
        Assert.Contains($"--data {shards}: the generation was interrupted", interrupted.Stderr, StringComparison.Ordinal);
        Assert.Contains("--resume", interrupted.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(tmp.Sub("r1"), "metrics.jsonl")));

        File.WriteAllText(manifest, complete);
        var shard = Directory.GetFiles(Path.Combine(shards, "data"), "*.parquet").Single();
        File.Copy(shard, Path.Combine(shards, "data", "stray.parquet"));
        var stray = await TrainFixtures.RunCliAsync(Train("r2"));
        Assert.Equal(1, stray.ExitCode);
        Assert.Single(stray.Stderr.Trim().Split('\n'));
        Assert.Contains($"{Path.Combine("data", "stray.parquet")} not listed in manifest.json", stray.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(tmp.Sub("r2"), "metrics.jsonl")));

        // Workers' output never merged: a partial manifest, no manifest.json.
        File.Delete(Path.Combine(shards, "data", "stray.parquet"));
        File.Move(manifest, Path.Combine(shards, "manifest.worker-0-of-2.json"));
        var unmerged = await TrainFixtures.RunCliAsync(Train("r3"));
        Assert.Equal(1, unmerged.ExitCode);
        Assert.Single(unmerged.Stderr.Trim().Split('\n'));
        Assert.Contains($"--data {shards}: holds manifest.worker-0-of-2.json but no manifest.json", unmerged.Stderr, StringComparison.Ordinal);
        Assert.Contains($"run zetaprep merge {shards} first", unmerged.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--size", "0")]
    [InlineData("--size", "-3")]
    [InlineData("--size", "3")]
    [InlineData("--size", "100000")]
    [InlineData("--batch-size", "0")]
    [InlineData("--batch-size", "-5")]
    public async Task Evaluate_SizeOrBatchSizeOutOfRange_IsOneLineUsageError(string option, string value)
    {
        using var tmp = new TempDir();
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var model = tmp.Sub("model.pt");
        File.WriteAllBytes(model, [1, 2, 3]);
        var r = await TrainFixtures.RunCliAsync("evaluate", "--model", model, "--val", val, "--arch", "resnet18", "--device", "cpu", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"zetaprep: error: {option} must be", r.Stderr, StringComparison.Ordinal);
        Assert.Contains($"(got {value})", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void CliJson_NaNAndInfinity_AreWrittenAsNamedLiterals()
    {
        var json = ZetaPrep.Cli.CliJsonContext.Serialize(new Dictionary<string, object> { ["val_loss"] = double.NaN, ["lr"] = double.PositiveInfinity, ["images"] = 3 });
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("NaN", doc.RootElement.GetProperty("val_loss").GetString());
        Assert.Equal("Infinity", doc.RootElement.GetProperty("lr").GetString());
        Assert.Equal(3, doc.RootElement.GetProperty("images").GetInt32());
    }

    [Fact]
    public async Task Cancelled_TrainAndEvaluate_SayWhatIsKeptForTheirCommand()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        async Task<(int Code, string Stderr)> Run(params string[] args)
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = await ZetaPrep.Cli.CliApp.RunAsync(args, stdout, stderr, cancelled.Token);
            return (code, stderr.ToString());
        }

        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 2, seed: 9);
        var run = tmp.Sub("run");
        string[] train = ["train", "--data", shards, "--val", val, "--device", "cpu", "--size", "16", "--batch-size", "4", "--out", run, "--quiet"];
        var fresh = await Run([.. train, "--epochs", "1"]);
        Assert.Equal(130, fresh.Code);
        Assert.Equal("zetaprep: cancelled; no epoch had finished, so no checkpoint was kept; rerun the same command to start again.", fresh.Stderr.Trim());
        Assert.False(Directory.Exists(run));

        // With an epoch saved (by an earlier run), a cancelled --resume names it.
        var first = await TrainFixtures.RunCliAsync([.. train, "--epochs", "1"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var resumed = await Run([.. train, "--epochs", "2", "--resume"]);
        Assert.Equal(130, resumed.Code);
        Assert.Equal($"zetaprep: cancelled; epoch 1's checkpoint is kept in {run}; rerun with --resume to continue.", resumed.Stderr.Trim());

        var model = tmp.Sub("model.pt");
        File.WriteAllBytes(model, [1, 2, 3]);
        var evaluate = await Run("evaluate", "--model", model, "--val", shards, "--arch", "resnet18", "--size", "16", "--device", "cpu");
        Assert.Equal(130, evaluate.Code);
        Assert.Equal("zetaprep: cancelled.", evaluate.Stderr.Trim());
    }

    [Fact]
    public void CorruptCheckpoint_IsAZetaPrepException()
    {
        using var tmp = new TempDir();
        var path = tmp.Sub("garbage.pt");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        using var model = ModelFactory.Create(TrainArchitecture.ResNet18, 3);
        var ex = Assert.Throws<ZetaPrepException>(() => Checkpoint.Load(model, path, "--model"));
        Assert.Contains("garbage.pt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointOfAnotherModel_SaysWhatDiffers()
    {
        using var tmp = new TempDir();
        var path = tmp.Sub("four-classes.pt");
        using (var saved = ModelFactory.Create(TrainArchitecture.ResNet18, 4))
        {
            saved.save(path);
        }

        using var threeClasses = ModelFactory.Create(TrainArchitecture.ResNet18, 3);
        var classes = Assert.Throws<ZetaPrepException>(() => Checkpoint.Load(threeClasses, path, "--model"));
        Assert.Contains("--model " + path + ": a checkpoint of another model: its fc.weight is [4, 512], the model's [3, 512]: it was trained on 4 classes, this model has 3", classes.Message, StringComparison.Ordinal);

        using var resnet50 = ModelFactory.Create(TrainArchitecture.ResNet50, 4);
        var arch = Assert.Throws<ZetaPrepException>(() => Checkpoint.Load(resnet50, path, "--model"));
        Assert.Contains("another architecture (check --arch)", arch.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("corrupt", arch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserErrors_AreOneLineNamingTheOptionOrFile()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, ["blue", "red"], perClass: 2, seed: 3);
        var empty = tmp.Sub("empty");
        Directory.CreateDirectory(empty);

        var mismatch = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", val, "--epochs", "1", "--device", "cpu", "--out", tmp.Sub("r1"), "--quiet");
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("--val", mismatch.Stderr, StringComparison.Ordinal);
        Assert.Contains("differ", mismatch.Stderr, StringComparison.Ordinal);

        var noShards = await TrainFixtures.RunCliAsync("train", "--data", empty, "--val", val, "--device", "cpu", "--out", tmp.Sub("r2"), "--quiet");
        Assert.Equal(2, noShards.ExitCode);
        Assert.Contains("no shards found", noShards.Stderr, StringComparison.Ordinal);

        var originals = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var noCheckpoint = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", originals, "--device", "cpu", "--out", tmp.Sub("r3"), "--resume", "--quiet");
        Assert.Equal(2, noCheckpoint.ExitCode);
        Assert.Contains("--resume: no checkpoint", noCheckpoint.Stderr, StringComparison.Ordinal);
        Assert.Single(noCheckpoint.Stderr.Trim().Split('\n'));

        // Killed while saving its first checkpoint: metrics.jsonl but no last.json. Both commands say the same way out.
        var halfRun = tmp.Sub("half");
        Directory.CreateDirectory(halfRun);
        File.WriteAllText(Path.Combine(halfRun, "metrics.jsonl"), "{\"epoch\":1}\n");
        var fresh = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", originals, "--epochs", "1", "--device", "cpu", "--out", halfRun, "--quiet");
        Assert.Equal(2, fresh.ExitCode);
        Assert.Contains($"it has no checkpoint to continue (last.json missing: the run was stopped while saving its first epoch, or the file was deleted), so delete {halfRun} and train again", fresh.Stderr, StringComparison.Ordinal);
        var resume = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", originals, "--epochs", "1", "--device", "cpu", "--out", halfRun, "--resume", "--quiet");
        Assert.Equal(2, resume.ExitCode);
        Assert.Contains($"--resume: {halfRun} holds metrics.jsonl but no checkpoint to continue from (last.json and last.pt missing: the run was stopped while saving its first epoch, or the file was deleted); delete {halfRun} (or choose another --out)", resume.Stderr, StringComparison.Ordinal);

        // An empty --val is named as --val (train and evaluate have no --in).
        var emptyVal = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", empty, "--epochs", "1", "--device", "cpu", "--out", tmp.Sub("r4"), "--quiet");
        Assert.Equal(2, emptyVal.ExitCode);
        Assert.StartsWith($"zetaprep: error: --val {empty}: no images found", emptyVal.Stderr, StringComparison.Ordinal);

        // Mixed shards are not validation images: each would be scored against its dominant class.
        var mixedVal = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", shards, "--epochs", "1", "--device", "cpu", "--out", tmp.Sub("r5"), "--quiet");
        Assert.Equal(2, mixedVal.ExitCode);
        Assert.Contains("holds mixed images", mixedVal.Stderr, StringComparison.Ordinal);
        Assert.Contains("--method none", mixedVal.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(tmp.Sub("r5"), "metrics.jsonl")));
    }

    [Fact]
    public async Task Data_OfDifferentImageSizes_NeedsAnExplicitSize()
    {
        using var tmp = new TempDir();
        var small = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var large = tmp.Sub("large");
        var g = await TrainFixtures.RunCliAsync("generate", "--in", tmp.Sub("images"), "--out", large, "--method", "none", "--size", "20", "--quiet");
        Assert.True(g.ExitCode == 0, g.Stderr);
        var val = tmp.Sub("images");

        // It used to train at the first directory's 16² and resize the other's 20² images without a word.
        var r = await TrainFixtures.RunCliAsync("train", "--data", small, large, "--val", val, "--epochs", "1", "--device", "cpu", "--out", tmp.Sub("r"), "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"zetaprep: error: --data: {small} holds 16×16 images, {large} 20×20; pass --size to train them all at one size (e.g. --size 20).", r.Stderr.Trim());
        Assert.False(Directory.Exists(tmp.Sub("r")));

        var sized = await TrainFixtures.RunCliAsync("train", "--data", small, large, "--val", val, "--epochs", "1", "--size", "16", "--batch-size", "4",
            "--threads", "1", "--device", "cpu", "--out", tmp.Sub("r"), "--quiet");
        Assert.True(sized.ExitCode == 0, sized.Stderr);
        Assert.Equal(16, RunConfig.Read(Path.Combine(tmp.Sub("r"), "config.json")).Size);
    }

    [Fact]
    public async Task Val_TakesShardsDirectlyInAFolder_AsDataDoes()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.ShardsAsync(tmp.Path, Classes, perClass: 3);
        var originals = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var flat = tmp.Sub("flat");
        Directory.CreateDirectory(flat);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(originals, "data"), "*.parquet"))
        {
            File.Copy(file, Path.Combine(flat, Path.GetFileName(file)));
        }
        var r = await TrainFixtures.RunCliAsync("train", "--data", shards, "--val", flat, "--epochs", "1", "--size", "16", "--batch-size", "4", "--device", "cpu", "--out", tmp.Sub("run"), "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("run"), "best.pt")));
    }
}
