using System.Text.Json;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Training;

/// <summary>OUT/last.json, written after last.pt: the epoch that checkpoint ends, the step count and the best score so far.</summary>
internal sealed record TrainState(int Epoch, long Step, double BestF1Micro, int BestEpoch)
{
    public const string FileName = "last.json";

    public static TrainState Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), RunConfig.JsonOptions.Info<TrainState>())
                ?? throw new ZetaPrepException($"--resume: {path} is empty; delete the last.* files to start over.");
        }
        catch (JsonException e)
        {
            throw new ZetaPrepException($"--resume: {path} is corrupt ({e.Message}); delete the last.* files to start over.", e);
        }
    }

    public void Write(string path)
    {
        AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, RunConfig.JsonOptions.Info<TrainState>()) + "\n"));
    }
}
