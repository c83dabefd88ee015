namespace ZetaPrep.Training.Tests;

/// <summary>One-line messages of train and evaluate that say what is wrong and a way out that works.</summary>
public sealed class TrainMessagesTests
{
    private static readonly string[] Classes = ["blue", "green", "red"];

    private static string[] Train(string shards, string val, string run, params string[] more) =>
        ["train", "--data", shards, "--val", val, "--epochs", "1", "--size", "16", "--threads", "1", "--device", "cpu", "--out", run, "--quiet", .. more];

    [Fact]
    public async Task Resume_DamagedCheckpointFiles_SayToDeleteTheRunDirectory_WhichThenWorks()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var run = tmp.Sub("run");
        var first = await TrainFixtures.RunCliAsync(Train(shards, val, run));
        Assert.True(first.ExitCode == 0, first.Stderr);
        // The closing line lists every file the run wrote.
        Assert.Contains($"run files in {run}: metrics.jsonl, best.pt, last.pt, last.optimizer.pt, last.json, config.json, curves.png", first.Stdout, StringComparison.Ordinal);
        var good = tmp.Sub("good");
        Directory.CreateSymbolicLink(good, run);

        // config.json's message had been evaluate's (pass --arch, --size), and a usage error (exit 2): QA.
        foreach (var (file, damage) in new[] { ("last.json", "{\"epoch\": 1"), ("last.optimizer.pt", null), ("last.pt", null), ("config.json", "garbage\n") })
        {
            var copy = tmp.Sub("damaged-" + file);
            CopyFiles(run, copy);
            var path = Path.Combine(copy, file);
            if (damage is null)
            {
                var bytes = File.ReadAllBytes(path);
                File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
            }
            else
            {
                File.WriteAllText(path, damage);
            }

            var r = await TrainFixtures.RunCliAsync(Train(shards, val, copy, "--resume"));
            Assert.True(r.ExitCode == 1, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.Contains(path, r.Stderr, StringComparison.Ordinal);
            Assert.EndsWith($"the run cannot be continued: delete the run directory {copy} (or choose another --out) and train again without --resume.", r.Stderr.Trim(), StringComparison.Ordinal);
            Assert.DoesNotContain("last.* files", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("point at another file", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("--arch", r.Stderr, StringComparison.Ordinal);

            // The advice works: delete the directory and train again.
            Directory.Delete(copy, recursive: true);
            var again = await TrainFixtures.RunCliAsync(Train(shards, val, copy));
            Assert.True(again.ExitCode == 0, again.Stderr);
        }
    }

    [Fact]
    public async Task ModelPretrainedAndVal_OfTheWrongKind_AreOneCleanLine()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        var json = tmp.Sub("weights.json");
        File.WriteAllText(json, "{\"architecture\": \"resnet18\", \"size\": 16}\n");

        var model = await TrainFixtures.RunCliAsync("evaluate", "--model", json, "--val", val, "--arch", "resnet18", "--size", "16", "--device", "cpu");
        Assert.Equal(1, model.ExitCode);
        Assert.Equal($"zetaprep: error: --model {json}: not a TorchSharp checkpoint (model.save format), or corrupt or truncated; give a best.pt or last.pt that zetaprep train wrote.", model.Stderr.Trim());

        var run = tmp.Sub("run");
        var pretrained = await TrainFixtures.RunCliAsync(Train(shards, val, run, "--pretrained", json));
        Assert.Equal(1, pretrained.ExitCode);
        Assert.Equal($"zetaprep: error: --pretrained {json}: not a TorchSharp checkpoint (model.save format), or corrupt or truncated; give weights saved with TorchSharp's model.save.", pretrained.Stderr.Trim());
        Assert.False(Directory.Exists(run));

        var directory = await TrainFixtures.RunCliAsync("evaluate", "--model", tmp.Path, "--val", val, "--device", "cpu");
        Assert.Equal(2, directory.ExitCode);
        Assert.Equal($"zetaprep: error: --model {tmp.Path}: is a directory; give a checkpoint file, e.g. {Path.Combine(tmp.Path, "best.pt")}.", directory.Stderr.Trim());

        var image = Directory.GetFiles(Path.Combine(val, "red")).First();
        var file = await TrainFixtures.RunCliAsync(Train(shards, image, run));
        Assert.Equal(2, file.ExitCode);
        Assert.Equal($"zetaprep: error: --val {image}: is a file; give a directory: an ImageFolder (one sub-folder per class) or a shard directory.", file.Stderr.Trim());

        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public async Task Val_WithAnEmptyClassFolder_SaysSoWhenTheClassesDiffer()
    {
        using var tmp = new TempDir();
        var shards = await TrainFixtures.UnmixedShardsAsync(tmp.Path, Classes, perClass: 3);
        var val = tmp.Sub("val");
        TrainFixtures.ColourFolder(val, Classes, perClass: 1, seed: 9);
        foreach (var image in Directory.GetFiles(Path.Combine(val, "red")))
        {
            File.Delete(image);
        }

        var r = await TrainFixtures.RunCliAsync(Train(shards, val, tmp.Sub("run")));
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("(red/ exists in --val but holds no images)", r.Stderr, StringComparison.Ordinal);
    }

    private static void CopyFiles(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
