using System.Globalization;
using System.Security.Cryptography;

namespace ZetaPrep.Manifests;

/// <summary>Checks a shard file against its manifest entry: present, the recorded size, the recorded SHA-256.</summary>
public static class ShardFileCheck
{
    /// <summary>Null when <paramref name="entry"/>'s file under <paramref name="outDir"/> matches; otherwise what is wrong, in a few words.</summary>
    public static async Task<string?> ProblemAsync(string outDir, ShardEntry entry, CancellationToken cancellationToken)
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
