using System.Text.Json;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>OUT/last.json, written after last.pt: the epoch that checkpoint ends, the step count and the best score so far.</summary>
internal sealed record TrainState(int Epoch, long Step, double BestF1Micro, int BestEpoch)
{
    public const string FileName = "last.json";

    /// <summary>Reads last.json; an empty or corrupt one is a <see cref="ZetaPrepException"/> saying how to start over.</summary>
    public static TrainState Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), RunConfig.JsonOptions.Info<TrainState>())
                ?? throw new ZetaPrepException($"--resume: {path} is empty; {StartOver(path)}.");
        }
        catch (JsonException e)
        {
            throw new ZetaPrepException($"--resume: {path} is corrupt ({e.Message.TrimEnd('.')}); {StartOver(path)}.", e);
        }
    }

    /// <summary>
    /// The way out when a run's checkpoint files are damaged: the run cannot be continued, and deleting only the damaged
    /// files would leave a run directory that train refuses (its metrics.jsonl) and --resume cannot continue.
    /// </summary>
    internal static string StartOver(string fileInRun)
    {
        var dir = Path.GetDirectoryName(fileInRun);
        return $"the run cannot be continued: delete the run directory {(string.IsNullOrEmpty(dir) ? "." : dir)} (or choose another --out) and train again without --resume";
    }

    public void Write(string path)
    {
        AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, RunConfig.JsonOptions.Info<TrainState>()) + "\n"));
    }
}
