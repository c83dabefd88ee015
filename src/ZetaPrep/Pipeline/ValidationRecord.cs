using System.Buffers;
using System.Globalization;
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
        string.Create(CultureInfo.InvariantCulture, $"zetaprep {toolVersion}; checks {ChecksRevision}; codec {codec}; max-pixels {maxPixels}; on-error {onError.ToString().ToLowerInvariant()}");

    /// <summary>
    /// Raised when the pass checks more (2: JPEG scan data that stops early yet ends in EOI), so verdicts kept by a build
    /// whose version string did not change (one built outside git) are not trusted for files it would now refuse.
    /// </summary>
    internal const int ChecksRevision = 2;

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
    /// <remarks>
    /// Lines go to one buffer written out a MiB at a time (an ImageNet-sized record is ~175 MB, 1.28 M lines): writing
    /// each line to the file as it was made took ~2.4 µs a line.
    /// </remarks>
    public static void WriteFile(string final, string key, IReadOnlyList<Entry> entries)
    {
        var temp = Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                var buffer = new ArrayBufferWriter<byte>(FlushAt + (64 * 1024));
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteNumber("zetaprep_validated", Version);
                    json.WriteString("key", key);
                    json.WriteNumber("count", entries.Count);
                    json.WriteEndObject();
                    json.Flush();
                    Span<byte> hex = stackalloc byte[64];
                    foreach (var e in entries)
                    {
                        buffer.Write("\n"u8);
                        json.Reset();
                        json.WriteStartObject();
                        json.WriteString(IdName, e.Id);
                        json.WriteNumber(SizeName, e.Size);
                        Convert.TryToHexStringLower(e.Sha256, hex, out _);
                        json.WriteString(Sha256Name, hex);
                        if (e.Skip is not null)
                        {
                            json.WriteString(SkipName, e.Skip);
                        }
                        json.WriteEndObject();
                        json.Flush();
                        if (buffer.WrittenCount >= FlushAt)
                        {
                            stream.Write(buffer.WrittenSpan);
                            buffer.ResetWrittenCount();
                        }
                    }
                }
                buffer.Write("\n"u8);
                stream.Write(buffer.WrittenSpan);
            }
            File.Move(temp, final, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    private const int FlushAt = 1 << 20;

    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText SizeName = JsonEncodedText.Encode("size");
    private static readonly JsonEncodedText Sha256Name = JsonEncodedText.Encode("sha256");
    private static readonly JsonEncodedText SkipName = JsonEncodedText.Encode("skip");

    /// <summary>The record's entries when it exists, has <paramref name="key"/> and matches <paramref name="listed"/> (ids, order, sizes); else null.</summary>
    public static Entry[]? TryRead(string outDir, string key, IReadOnlyList<SourceItem> listed) => TryReadFile(PathIn(outDir), key, listed);

    /// <summary><see cref="TryRead"/> from any path.</summary>
    /// <remarks>
    /// Parses the UTF-8 lines where they lie in the read buffer, and takes each id from the listing once it compares
    /// equal: no string per line, id or hash (reading the lines as strings took ~2.5 µs a line).
    /// </remarks>
    public static Entry[]? TryReadFile(string path, string key, IReadOnlyList<SourceItem> listed)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            var lines = new LineReader(stream);
            if (!lines.TryNext(out var first))
            {
                return null;
            }
            using (var header = JsonDocument.Parse(first.StartsWith("\uFEFF"u8) ? first[3..].ToArray() : first.ToArray()))
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
                if (!lines.TryNext(out var line) || ParseEntry(line, listed[i]) is not { } entry)
                {
                    return null;
                }
                entries[i] = entry;
            }
            return lines.TryNext(out var rest) && rest.Length > 0 ? null : entries;
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

    /// <summary>The entry on <paramref name="line"/> when it is for <paramref name="expected"/> (same id and size); else null.</summary>
    private static Entry? ParseEntry(ReadOnlySpan<byte> line, SourceItem expected)
    {
        var reader = new Utf8JsonReader(line);
        bool sameId = false;
        byte[]? sha = null;
        string? skip = null;
        long size = -1;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(IdName.EncodedUtf8Bytes))
            {
                reader.Read();
                sameId = reader.ValueTextEquals(expected.Id);
            }
            else if (reader.ValueTextEquals(SizeName.EncodedUtf8Bytes))
            {
                reader.Read();
                size = reader.GetInt64();
            }
            else if (reader.ValueTextEquals(Sha256Name.EncodedUtf8Bytes))
            {
                reader.Read();
                sha = Sha256Of(ref reader);
            }
            else if (reader.ValueTextEquals(SkipName.EncodedUtf8Bytes))
            {
                reader.Read();
                skip = reader.GetString();
            }
            else
            {
                return null;
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || !sameId || size != expected.Size || sha is null)
        {
            return null;
        }
        return new Entry(expected.Id, size, sha, skip);
    }

    /// <summary>The 32 bytes a 64-digit hex string value spells; null for anything else.</summary>
    private static byte[]? Sha256Of(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return null;
        }
        var sha = new byte[32];
        if (reader.ValueIsEscaped)
        {
            return reader.GetString() is { Length: 64 } text && Convert.FromHexString(text, sha, out _, out _) == OperationStatus.Done ? sha : null;
        }
        return reader.ValueSpan.Length == 64 && Convert.FromHexString(reader.ValueSpan, sha, out _, out _) == OperationStatus.Done ? sha : null;
    }

    /// <summary>
    /// The lines of a stream as spans of its bytes, split at '\n' (a '\r' before it dropped); each line is valid until
    /// the next call. A line longer than <see cref="MaxLine"/> ends the file (a damaged record).
    /// </summary>
    private sealed class LineReader(Stream stream)
    {
        private const int MaxLine = 16 << 20;
        private byte[] _buffer = new byte[1 << 20];
        private int _start;
        private int _end;
        private bool _ended;

        public bool TryNext(out ReadOnlySpan<byte> line)
        {
            while (true)
            {
                var pending = _buffer.AsSpan(_start, _end - _start);
                var newline = pending.IndexOf((byte)'\n');
                if (newline >= 0 || (_ended && pending.Length > 0))
                {
                    line = newline >= 0 ? pending[..newline] : pending;
                    _start += newline >= 0 ? newline + 1 : pending.Length;
                    if (line.EndsWith("\r"u8))
                    {
                        line = line[..^1];
                    }
                    return true;
                }
                if (_ended)
                {
                    line = default;
                    return false;
                }
                pending.CopyTo(_buffer);
                (_start, _end) = (0, pending.Length);
                if (_end == _buffer.Length)
                {
                    if (_buffer.Length >= MaxLine)
                    {
                        throw new FormatException($"a line of the validation record is over {MaxLine} bytes");
                    }
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                var read = stream.Read(_buffer, _end, _buffer.Length - _end);
                _ended = read == 0;
                _end += read;
            }
        }
    }
}
