using System.Globalization;
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
            if (Mismatch(model, path, strict ? null : skip) is { } mismatch)
            {
                throw new ZetaPrepException($"{option} {path}: a checkpoint of another model: {mismatch}.", ex);
            }

            // libtorch's own words ("found 123 entries", "please report this error") describe its parser, not the file.
            throw new ZetaPrepException($"{option} {path}: not a TorchSharp checkpoint (model.save format), or corrupt or truncated; {Advice(option, path)}.", ex);
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
            throw new ZetaPrepException($"--resume: {path} is corrupt or truncated (not a TorchSharp optimizer state); {TrainState.StartOver(path)}.", ex);
        }
    }

    /// <summary>What to do about a file that cannot be read as a checkpoint, for the option that named it.</summary>
    private static string Advice(string option, string path) => option switch
    {
        "--resume" => TrainState.StartOver(path),
        "--model" => "give a best.pt or last.pt that zetaprep train wrote",
        "--pretrained" => "give weights saved with TorchSharp's model.save",
        _ => "give a file saved with TorchSharp's model.save",
    };

    /// <summary>
    /// What differs between a readable checkpoint and the model (another architecture or class count), or null when the
    /// file cannot be read as a TorchSharp state dict (then it is damaged) or nothing differs.
    /// </summary>
    private static string? Mismatch(torch.nn.Module model, string path, IList<string>? skip)
    {
        var expected = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        var found = new List<(string Name, long[] Shape)>();
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            var count = ReadLength(reader);
            if (count is < 0 or > 100_000)
            {
                return null;
            }

            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                using var shapeOnly = TensorExtensionMethods.Load(reader, skip: true);
                found.Add((name, shapeOnly.shape));
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            return null;
        }

        if (found.FirstOrDefault(f => !expected.ContainsKey(f.Name)) is { Name: not null } extra)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"it holds {found.Count} tensors and the model {expected.Count}, and its '{extra.Name}' is not in the model: another architecture (check --arch)");
        }

        if (skip is null && found.Count != expected.Count && expected.Keys.FirstOrDefault(k => found.All(f => f.Name != k)) is { } missing)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"it holds {found.Count} tensors and the model {expected.Count}, and lacks the model's '{missing}': another architecture (check --arch)");
        }

        foreach (var (name, shape) in found)
        {
            if (skip?.Contains(name) == true || shape.SequenceEqual(expected[name]))
            {
                continue;
            }

            var what = string.Create(CultureInfo.InvariantCulture, $"its {name} is [{string.Join(", ", shape)}], the model's [{string.Join(", ", expected[name])}]");
            return name.StartsWith("fc.", StringComparison.Ordinal) && shape.Length > 0 && expected[name].Length > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{what}: it was trained on {shape[0]} classes, this model has {expected[name][0]} (use validation images of the checkpoint's classes, or its run's config.json)")
                : $"{what}: another architecture (check --arch)";
        }

        return null;
    }

    /// <summary>TorchSharp's count prefix: an unsigned LEB128 number (7 bits a byte, low first).</summary>
    private static long ReadLength(BinaryReader reader)
    {
        long value = 0;
        for (var shift = 0; shift < 63; shift += 7)
        {
            long b = reader.ReadByte();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        return -1;
    }
}
