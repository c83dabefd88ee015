using System.Globalization;
using System.Text;
using System.Text.Json;
using ZetaPrep.Sources;

namespace ZetaPrep.Pipeline;

/// <summary>
/// What the validation pass found, kept in the output directory while a generation is unfinished, so that
/// <c>--resume</c> (after Ctrl+C, a crash, a requeued or a later-started worker) need not read, check and hash every
/// input again: on an input larger than the page cache that pass reads the whole dataset from disk once more, and each
/// of W workers read all of it. JSON Lines: a header, then per listed input its id, size, SHA-256 and, when
/// <c>--on-error skip</c> left it out, the reason. A run that reuses it verifies each input's SHA-256 against it when it
/// reads the input for decoding, so a file changed since then stops the run instead of going into a shard.
/// </summary>
/// <remarks>
/// Reused only when the header's key (tool version, codec, --max-pixels, --on-error: what decides the pass's verdicts)
/// matches and the listing has the same ids in the same order with the same sizes; anything else, including a damaged
/// file, means "absent". Written atomically (concurrent workers write the same bytes); deleted when the run completes,
/// or by <c>merge</c> for workers.
/// </remarks>
internal static class ValidationRecord
{
    public const string FileName = ".zetaprep-validated.jsonl";

    private const int Version = 1;

    /// <summary>One listed input as the validation pass saw it.</summary>
    public sealed record Entry(string Id, long Size, byte[] Sha256, string? Skip);

    /// <summary>What decides the validation pass's verdicts; a record made under another key is not reused.</summary>
    public static string Key(string toolVersion, string codec, long maxPixels, OnError onError) =>
        string.Create(CultureInfo.InvariantCulture, $"zetaprep {toolVersion}; codec {codec}; max-pixels {maxPixels}; on-error {onError.ToString().ToLowerInvariant()}");

    public static string PathIn(string outDir) => Path.Combine(outDir, FileName);

    /// <summary>Writes the record for <paramref name="entries"/> (the whole listing, in order); best effort: a failure leaves no file.</summary>
    public static void TryWrite(string outDir, string key, IReadOnlyList<Entry> entries)
    {
        try
        {
            Write(outDir, key, entries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Writes the record atomically (temporary name, then rename); a failure leaves no file and is thrown.</summary>
    public static void Write(string outDir, string key, IReadOnlyList<Entry> entries) => WriteFile(PathIn(outDir), key, entries);

    /// <summary><see cref="Write"/> to any path (the verdict cache keeps records under other names).</summary>
    public static void WriteFile(string final, string key, IReadOnlyList<Entry> entries)
    {
        var temp = Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                using (var json = new Utf8JsonWriter(stream))
                {
                    json.WriteStartObject();
                    json.WriteNumber("zetaprep_validated", Version);
                    json.WriteString("key", key);
                    json.WriteNumber("count", entries.Count);
                    json.WriteEndObject();
                    json.Flush();
                    foreach (var e in entries)
                    {
                        stream.WriteByte((byte)'\n');
                        json.Reset();
                        json.WriteStartObject();
                        json.WriteString("id", e.Id);
                        json.WriteNumber("size", e.Size);
                        json.WriteString("sha256", Convert.ToHexStringLower(e.Sha256));
                        if (e.Skip is not null)
                        {
                            json.WriteString("skip", e.Skip);
                        }
                        json.WriteEndObject();
                        json.Flush();
                    }
                }
                stream.WriteByte((byte)'\n');
            }
            File.Move(temp, final, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    /// <summary>The record's entries when it exists, has <paramref name="key"/> and matches <paramref name="listed"/> (ids, order, sizes); else null.</summary>
    public static Entry[]? TryRead(string outDir, string key, IReadOnlyList<SourceItem> listed) => TryReadFile(PathIn(outDir), key, listed);

    /// <summary><see cref="TryRead"/> from any path.</summary>
    public static Entry[]? TryReadFile(string path, string key, IReadOnlyList<SourceItem> listed)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var lines = File.ReadLines(path, Encoding.UTF8).GetEnumerator();
            if (!lines.MoveNext())
            {
                return null;
            }
            using (var header = JsonDocument.Parse(lines.Current))
            {
                var h = header.RootElement;
                if (h.GetProperty("zetaprep_validated").GetInt32() != Version || h.GetProperty("key").GetString() != key
                    || h.GetProperty("count").GetInt32() != listed.Count)
                {
                    return null;
                }
            }
            var entries = new Entry[listed.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                if (!lines.MoveNext())
                {
                    return null;
                }
                var entry = ParseEntry(lines.Current);
                if (entry is null || entry.Id != listed[i].Id || entry.Size != listed[i].Size)
                {
                    return null;
                }
                entries[i] = entry;
            }
            return lines.MoveNext() && lines.Current.Length > 0 ? null : entries;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Removes the record from <paramref name="outDir"/> (the run it served is complete); best effort.</summary>
    public static void TryDelete(string outDir) => DeleteQuietly(PathIn(outDir));

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static Entry? ParseEntry(string line)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(line));
        string? id = null, sha = null, skip = null;
        long size = -1;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "id":
                    id = reader.GetString();
                    break;
                case "size":
                    size = reader.GetInt64();
                    break;
                case "sha256":
                    sha = reader.GetString();
                    break;
                case "skip":
                    skip = reader.GetString();
                    break;
                default:
                    return null;
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || id is null || size < 0 || sha is not { Length: 64 })
        {
            return null;
        }
        return new Entry(id, size, Convert.FromHexString(sha), skip);
    }
}
