using TorchSharp;

namespace ZetaPrep.Training;

/// <summary>Loading TorchSharp state files (saving is <see cref="RunFiles.CommitEpoch"/>), with damage reported as a <see cref="ZetaPrepException"/> naming the file.</summary>
internal static class Checkpoint
{
    public static void Load(torch.nn.Module model, string path, string option, bool strict = true, IList<string>? skip = null)
    {
        if (!File.Exists(path))
        {
            throw ZetaPrepException.Usage($"{option} {path}: file not found.");
        }

        var loaded = new Dictionary<string, bool>();
        try
        {
            model.load(path, strict, skip, loaded);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            throw new ZetaPrepException($"{option} {path}: corrupt, truncated or not a TorchSharp checkpoint of this model ({FirstLine(ex.Message)}); save it again with model.save or point at another file.", ex);
        }

        if (!strict && !loaded.Any(kv => kv.Value))
        {
            throw new ZetaPrepException($"{option} {path}: no parameter name matched the model; is it a TorchSharp checkpoint of this architecture?");
        }
    }

    public static void Load(TorchSharp.Modules.OptimizerHelper optimizer, string path)
    {
        try
        {
            optimizer.load_state_dict(path);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            throw new ZetaPrepException($"--resume: {path} is corrupt or truncated ({FirstLine(ex.Message)}); delete the run directory's last.* files to start over.", ex);
        }
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
