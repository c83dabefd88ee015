using System.Runtime.CompilerServices;
using System.Text;

namespace ZetaPrep.Shards;

/// <summary>Reads the WebDataset tars that <see cref="WebDatasetShardWriter"/> writes; a missing, truncated or malformed file is a <see cref="ZetaPrepException"/> naming it.</summary>
public static class WebDatasetTarReader
{
    /// <summary>One tar member: name and bytes.</summary>
    public sealed record Member(string Name, byte[] Data);

    /// <summary>Streams the tar's regular-file members in order, checking header checksums and the end-of-archive blocks.</summary>
    public static async IAsyncEnumerable<Member> ReadMembersAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ZetaPrepException($"Shard '{path}' does not exist; check the path or regenerate the dataset.", 1, e);
        }
        await using (file.ConfigureAwait(false))
        {
            var header = new byte[UstarHeader.BlockSize];
            var offset = 0L;
            while (true)
            {
                if (!await ReadExactlyAsync(file, header, ct).ConfigureAwait(false))
                {
                    throw Bad(path, offset, "ends without the two zero blocks that close a tar (truncated?)");
                }
                if (header.All(b => b == 0))
                {
                    yield break;
                }
                if (UstarHeader.ParseOctal(header.AsSpan(148, 8)) != UstarHeader.Checksum(header))
                {
                    throw Bad(path, offset, "header checksum mismatch");
                }
                var nameLength = header.AsSpan(0, 100).IndexOf((byte)0);
                var name = Encoding.ASCII.GetString(header, 0, nameLength < 0 ? 100 : nameLength);
                var size = UstarHeader.ParseOctal(header.AsSpan(124, 12));
                if (size < 0 || size > int.MaxValue)
                {
                    throw Bad(path, offset, $"member '{name}' has an unreadable size field");
                }
                var data = new byte[size];
                var padded = new byte[UstarHeader.Padding(size)];
                if (!await ReadExactlyAsync(file, data, ct).ConfigureAwait(false) || !await ReadExactlyAsync(file, padded, ct).ConfigureAwait(false))
                {
                    throw Bad(path, offset, $"member '{name}' is cut short (truncated?)");
                }
                offset += UstarHeader.BlockSize + size + padded.Length;
                if (header[156] is (byte)'0' or 0)
                {
                    yield return new Member(name, data);
                }
            }
        }
    }

    /// <summary>One sample: its key and its members in tar order.</summary>
    internal sealed record Sample(string Key, IReadOnlyList<Member> Members);

    /// <summary>Streams the samples: members grouped by key (the name up to its first dot), adjacent, each key once.</summary>
    internal static async IAsyncEnumerable<Sample> ReadSamplesAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? key = null;
        var members = new List<Member>();
        await foreach (var member in ReadMembersAsync(path, ct).ConfigureAwait(false))
        {
            var dot = member.Name.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0)
            {
                throw new ZetaPrepException($"Shard '{path}': member '{member.Name}' has no KEY.ext name.");
            }
            var memberKey = member.Name[..dot];
            if (memberKey != key)
            {
                if (key is not null)
                {
                    yield return new Sample(key, members);
                }
                if (!seen.Add(memberKey))
                {
                    throw new ZetaPrepException($"Shard '{path}': key '{memberKey}' appears in two places; a sample's members must be adjacent.");
                }
                key = memberKey;
                members = [];
            }
            members.Add(member);
        }
        if (key is not null)
        {
            yield return new Sample(key, members);
        }
    }

    /// <summary>A member's suffix: its name after the first dot, lower-cased (<c>png</c>, <c>json</c>, <c>cls</c>).</summary>
    internal static string SuffixOf(string name) => name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..].ToLowerInvariant();

    /// <summary>Streams the samples as rows (suffixes png/json/cls, each once); a sample without its image or JSON is an error.</summary>
    public static async IAsyncEnumerable<ShardRow> ReadRowsAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var sample in ReadSamplesAsync(path, ct).ConfigureAwait(false))
        {
            var members = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var member in sample.Members)
            {
                var suffix = SuffixOf(member.Name);
                if (!members.TryAdd(suffix, member.Data))
                {
                    throw new ZetaPrepException($"Shard '{path}': sample '{sample.Key}' has two '.{suffix}' members.");
                }
            }
            yield return ToRow(path, sample.Key, members);
        }
    }

    private static ShardRow ToRow(string path, string key, Dictionary<string, byte[]> members)
    {
        try
        {
            return WebDatasetSample.Parse(key, members);
        }
        catch (InvalidDataException e)
        {
            throw new ZetaPrepException($"Shard '{path}': {e.Message}.", e);
        }
    }

    private static ZetaPrepException Bad(string path, long offset, string what) =>
        new($"Shard '{path}' is not a valid tar at byte {offset}: {what}; regenerate it.");

    private static async Task<bool> ReadExactlyAsync(Stream stream, byte[] buffer, CancellationToken ct)
    {
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        return read == buffer.Length;
    }
}
