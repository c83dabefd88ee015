using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ZetaPrep.Sources;

/// <summary>A source that can tell, one statx per file or archive, whether its inputs are still those of an earlier run.</summary>
internal interface IIdentifiableSource
{
    /// <summary>The identity of every file <paramref name="items"/> are read from; null when any has none.</summary>
    InputsIdentity? Identify(IReadOnlyList<SourceItem> items, int threads, CancellationToken cancellationToken);
}

/// <summary>
/// A digest over each listed input's id and size and the <see cref="FileIdentity"/> of the file it is read from (its
/// own file, or the zip it is a member of), and the newest status change among those files.
/// </summary>
internal sealed record InputsIdentity(string Digest, long NewestChangeNs)
{
    /// <summary>
    /// Stats each distinct file once (in parallel: on a network file system each is a round trip) and digests the
    /// listing with them; null when a file cannot be stat'ed or its file system reports no times.
    /// </summary>
    public static InputsIdentity? Compute(string source, IReadOnlyList<SourceItem> items, Func<SourceItem, string> fileOf, int threads, CancellationToken cancellationToken)
    {
        var files = new string[items.Count];
        for (var i = 0; i < files.Length; i++)
        {
            files[i] = fileOf(items[i]);
        }
        var distinct = files.Distinct(StringComparer.Ordinal).ToArray();
        var identities = new FileIdentity?[distinct.Length];
        Parallel.For(0, distinct.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancellationToken },
            i => identities[i] = FileIdentity.Of(distinct[i]));
        var byFile = new Dictionary<string, FileIdentity>(distinct.Length, StringComparer.Ordinal);
        long newest = 0;
        for (var i = 0; i < distinct.Length; i++)
        {
            if (identities[i] is not { Trustworthy: true } id)
            {
                return null;
            }
            byFile[distinct[i]] = id;
            newest = Math.Max(newest, id.CtimeNs);
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(source + "\n"));
        // Each line formatted into one reused buffer (the same bytes as a string per line, UTF-8 encoded): a run checks
        // its inputs' identity before the validation pass and again after the last shard, and two strings and a byte
        // array per input had grown a 4000-photo run's peak memory.
        var line = new byte[1024];
        for (var i = 0; i < items.Count; i++)
        {
            var f = byFile[files[i]];
            int written;
            while (!System.Text.Unicode.Utf8.TryWrite(line, CultureInfo.InvariantCulture,
                $"{items[i].Id}\0{items[i].Size}\0{files[i]}\0{f.Size}\0{f.MtimeNs}\0{f.CtimeNs}\0{f.Inode}\0{f.Device}\n", out written))
            {
                line = new byte[line.Length * 2];
            }
            hash.AppendData(line, 0, written);
        }
        return new InputsIdentity(Convert.ToHexStringLower(hash.GetHashAndReset()), newest);
    }
}
