using System.Runtime.CompilerServices;
using ZetaPrep.Manifests;
using ZetaPrep.Shards;

namespace ZetaPrep.Inspection;

/// <summary>A generated output directory opened for reading: its manifest and shard format.</summary>
public sealed record GeneratedDataset(string Directory, GenerationManifest Manifest, IShardFormat Format)
{
    /// <summary>Opens <paramref name="directory"/>; a missing directory or manifest is a usage error naming it.</summary>
    public static GeneratedDataset Open(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw ZetaPrepException.Usage($"{full}: directory not found; give a ZetaPrep output directory (it holds manifest.json).");
        }
        var manifestPath = Path.Combine(full, GenerationManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw ZetaPrepException.Usage($"{manifestPath}: not found; give a ZetaPrep output directory (it holds manifest.json).");
        }
        var manifest = GenerationManifest.Read(manifestPath);
        return new GeneratedDataset(full, manifest, ShardFormats.Get(manifest.Options.Format));
    }

    /// <summary>Every row of every shard in manifest order, with the shard's relative path and the row's index within it.</summary>
    public async IAsyncEnumerable<(string Shard, int Index, ShardRow Row)> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var shard in Manifest.Shards)
        {
            var i = 0;
            await foreach (var row in Format.ReadRowsAsync(Directory, shard.File, ct).ConfigureAwait(false))
            {
                yield return (shard.File, i++, row);
            }
        }
    }
}
