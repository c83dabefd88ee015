using System.Globalization;
using System.Security.Cryptography;

using ZetaPrep.Shards;

namespace ZetaPrep.Manifests;

/// <summary>Checks a shard file against its manifest entry: present, the recorded size, the recorded SHA-256.</summary>
public static class ShardFileCheck
{
    /// <summary>Null when <paramref name="entry"/>'s file under <paramref name="outDir"/> matches; otherwise what is wrong, in a few words.</summary>
    /// <param name="outDir">The output directory.</param>
    /// <param name="entry">The manifest's entry for the shard.</param>
    /// <param name="format">The output's format: where a shard is more than its file (the folder format's label part
    /// lists images, each pinned by SHA-256), those are read back and checked too.</param>
    /// <param name="cancellationToken">Stops the check.</param>
    public static async Task<string?> ProblemAsync(string outDir, ShardEntry entry, IShardFormat format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (await FileProblemAsync(outDir, entry, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            return problem;
        }
        if (format.Kind != ShardFormat.Folder)
        {
            return null;
        }
        try
        {
            // The image and what is wrong with it: the caller names the output and its own way on.
            await foreach (var (_, image) in FolderShardFormat.ReadRowsOrProblemsAsync(outDir, entry.File, cancellationToken).ConfigureAwait(false))
            {
                if (image is not null)
                {
                    return image;
                }
            }
        }
        catch (ZetaPrepException e)
        {
            return e.Message;
        }
        return null;
    }

    private static async Task<string?> FileProblemAsync(string outDir, ShardEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var path = Path.Combine(outDir, entry.File);
        if (!File.Exists(path))
        {
            return "missing";
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            if (stream.Length != entry.Bytes)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{stream.Length} bytes, manifest says {entry.Bytes}");
            }
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            return string.Equals(hash, entry.Sha256, StringComparison.OrdinalIgnoreCase) ? null : "SHA-256 differs from the manifest";
        }
    }
}
