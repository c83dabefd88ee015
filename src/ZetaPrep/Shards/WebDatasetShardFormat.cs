using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace ZetaPrep.Shards;

/// <summary>WebDataset tars <c>shard-{i:06d}.tar</c> in the output root plus the wids index <c>shardindex.json</c>.</summary>
internal sealed class WebDatasetShardFormat : IShardFormat
{
    public const string IndexFileName = "shardindex.json";

    public ShardFormat Kind => ShardFormat.WebDataset;

    public string Name => "webdataset";

    public IReadOnlyList<string> IndexFiles { get; } = [IndexFileName];

    public string DataFilesGlob => "shard-*.tar";

    // webdataset's brace pattern shard-{000000..000099}.tar (FACTS.md §4); the split is not part of the name.
    public string ShardFileName(string split, int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return string.Create(CultureInfo.InvariantCulture, $"shard-{index:D6}.tar");
    }

    public async Task<IShardWriter> CreateWriterAsync(string outputDirectory, string relativePath, ShardSchema schema, CancellationToken ct) =>
        await WebDatasetShardWriter.CreateAsync(Path.Combine(outputDirectory, relativePath), schema, ct).ConfigureAwait(false);

    public async IAsyncEnumerable<ShardRow> ReadRowsAsync(string outputDirectory, string relativePath, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in WebDatasetTarReader.ReadRowsAsync(Path.Combine(outputDirectory, relativePath), ct).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    /// <summary>
    /// Every sample of a tar as a row, with what is wrong with the sample itself: members other than exactly KEY.png,
    /// KEY.json, KEY.cls in that order, or a .cls that disagrees with the JSON (verify reports each and goes on; the row
    /// is still checked where its image and JSON read). A sample without them or with malformed JSON has no row. A tar
    /// that does not read as one (a bad header, cut short, a key in two places) is still a <see cref="ZetaPrepException"/>.
    /// </summary>
    internal static async IAsyncEnumerable<(ShardRow? Row, IReadOnlyList<string> Problems)> ReadRowsOrProblemsAsync(string outputDirectory, string relativePath, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var sample in WebDatasetTarReader.ReadSamplesAsync(Path.Combine(outputDirectory, relativePath), ct).ConfigureAwait(false))
        {
            var problems = new List<string>();
            if (WebDatasetSample.LayoutProblem(sample.Key, [.. sample.Members.Select(m => m.Name)]) is { } layout)
            {
                problems.Add(layout + ".");
            }
            var members = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var member in sample.Members)
            {
                members.TryAdd(WebDatasetTarReader.SuffixOf(member.Name), member.Data); // a second one is the layout's problem
            }
            ShardRow? row = null;
            if (members.ContainsKey("png") && members.ContainsKey("json"))
            {
                try
                {
                    row = WebDatasetSample.ParseRow(sample.Key, members);
                }
                catch (InvalidDataException e)
                {
                    problems.Add(e.Message + ".");
                }
                if (row is not null && WebDatasetSample.ClsProblem(sample.Key, members, row) is { } cls)
                {
                    problems.Add(cls + ".");
                }
            }
            yield return (row, problems);
        }
    }

    /// <summary>Writes <c>shardindex.json</c> (wids-shard-index-v1): per tar its url (relative), MD5, sample count and size, read back from the committed files so a resumed run gets the same index.</summary>
    public async Task<IReadOnlyList<(string Relative, byte[] Bytes)>> BuildIndexAsync(string outputDirectory, IReadOnlyList<string> shardFiles, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(shardFiles);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("__kind__", "wids-shard-index-v1");
            json.WriteNumber("wids_version", 1);
            json.WriteStartArray("shardlist");
            foreach (var relative in shardFiles)
            {
                var path = Path.Combine(outputDirectory, relative);
                string md5;
                var stream = File.OpenRead(path);
                await using (stream.ConfigureAwait(false))
                {
#pragma warning disable CA5351 // MD5 is what the wids index format specifies (a transfer checksum, not a security control).
                    md5 = Convert.ToHexStringLower(await MD5.HashDataAsync(stream, ct).ConfigureAwait(false));
#pragma warning restore CA5351
                }
                var samples = 0L;
                await foreach (var member in WebDatasetTarReader.ReadMembersAsync(path, ct).ConfigureAwait(false))
                {
                    samples += member.Name.EndsWith(".png", StringComparison.Ordinal) ? 1 : 0;
                }
                json.WriteStartObject();
                json.WriteString("url", relative);
                json.WriteString("md5sum", md5);
                json.WriteNumber("nsamples", samples);
                json.WriteNumber("filesize", new FileInfo(path).Length);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return [(IndexFileName, buffer.ToArray())];
    }

    public bool IsInDataArea(string relativePath) =>
        !relativePath.Contains('/', StringComparison.Ordinal) && relativePath.EndsWith(".tar", StringComparison.Ordinal);
}
