using ZetaPrep.Mixing;
using ZetaPrep.Pipeline;
using ZetaPrep.Planning;
using ZetaPrep.Tests.Shards;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>
/// What a run into a new output removes when an input the validation pass let through stops it mid-run: its own shards
/// and manifest, nothing else (a user's files, another worker's shards).
/// </summary>
public sealed class RemoveStoppedRunTests
{
    private static readonly ShardPlan[] Shards = [new(0, 4, 0, 1, 0, 4), new(1, 4, 1, 1, 4, 4), new(2, 4, 2, 1, 8, 4), new(3, 4, 3, 1, 12, 4)];

    private static GenerateOptions Options(string output, WorkerSpec? worker = null) => new()
    {
        OutputDirectory = output,
        Plan = new PlanOptions(MixCount.Of(2), GammaSpec.Fixed(2.8), batchSize: 4, seed: 0),
        Worker = worker,
    };

    private static void Write(string root, params string[] relatives)
    {
        foreach (var relative in relatives)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, relative);
        }
    }

    private static List<string> Files(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    [Fact]
    public void ASingleRun_RemovesItsShardsManifestAndVerdicts_AndLeavesTheUsersFiles()
    {
        using var dir = new TempDirectory();
        Write(dir.Path, "data/train-00000-of-00004.parquet", "data/train-00001-of-00004.parquet", "manifest.json", ValidationRecord.FileName, "notes.txt", "data/notes.txt");

        OutputDirectory.RemoveStoppedRun(dir.Path, Options(dir.Path), Shards, Path.Combine(dir.Path, "manifest.json"));

        Assert.Equal(["data/notes.txt", "notes.txt"], Files(dir.Path));
    }

    [Fact]
    public void AWorker_RemovesItsOwnShardsImagesAndManifest_NotAnotherWorkers()
    {
        using var dir = new TempDirectory();
        // Worker 0/2 owns shards 0 and 2 (rows 0–3 and 8–11); worker 1's files stay, and so does the shared verdicts file.
        Write(dir.Path,
            "labels/train-00000-of-00004.parquet", "labels/train-00001-of-00004.parquet", "labels/train-00002-of-00004.parquet",
            "images/00000001.png", "images/00000005.png", "images/00000009.png", "images/00000013.png",
            "manifest.worker-0-of-2.json", "manifest.worker-1-of-2.json", ValidationRecord.FileName);
        var worker = new WorkerSpec(0, 2);

        OutputDirectory.RemoveStoppedRun(dir.Path, Options(dir.Path, worker), [Shards[0], Shards[2]], Path.Combine(dir.Path, worker.ManifestFileName));

        Assert.Equal([ValidationRecord.FileName, "images/00000005.png", "images/00000013.png", "labels/train-00001-of-00004.parquet", "manifest.worker-1-of-2.json"], Files(dir.Path));
    }
}
