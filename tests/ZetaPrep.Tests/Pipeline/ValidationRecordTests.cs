using System.Security.Cryptography;
using System.Text;
using ZetaPrep.Pipeline;
using ZetaPrep.Sources;
using ZetaPrep.Tests.Shards;

namespace ZetaPrep.Tests.Pipeline;

/// <summary>The validation record's file: what it reads back, and every way a record stops matching (then it reads as absent).</summary>
public sealed class ValidationRecordTests
{
    private const string Key = "zetaprep 1.0.0; codec skia; max-pixels 100; on-error skip";

    private static readonly ValidationRecord.Entry[] Entries =
    [
        new("a/one.png", 10, SHA256.HashData("one"u8), null),
        new("b/\"quoted\" name,\twith\ttabs\nand a newline.jpg", 0, SHA256.HashData("two"u8), null),
        new("ç/ünïcødé 画像.webp", 1L << 40, SHA256.HashData("three"u8), "truncated or corrupt PNG data"),
    ];

    private static SourceItem[] Listing(params ValidationRecord.Entry[] entries) => [.. entries.Select(e => new SourceItem(e.Id, 0, e.Size))];

    [Fact]
    public void Reads_back_what_it_wrote_ids_of_any_characters_included()
    {
        using var dir = new TempDirectory();
        ValidationRecord.TryWrite(dir.Path, Key, Entries);
        var read = ValidationRecord.TryRead(dir.Path, Key, Listing(Entries));
        Assert.NotNull(read);
        Assert.Equal(Entries.Length, read.Length);
        for (var i = 0; i < Entries.Length; i++)
        {
            Assert.Equal(Entries[i].Id, read[i].Id);
            Assert.Equal(Entries[i].Size, read[i].Size);
            Assert.Equal(Entries[i].Sha256, read[i].Sha256);
            Assert.Equal(Entries[i].Skip, read[i].Skip);
        }
        Assert.Single(dir.AllFiles()); // no temporary left behind
    }

    [Fact]
    public void Anything_that_no_longer_matches_reads_as_no_record()
    {
        using var dir = new TempDirectory();
        Assert.Null(ValidationRecord.TryRead(dir.Path, Key, Listing(Entries)));
        ValidationRecord.TryWrite(dir.Path, Key, Entries);
        Assert.NotNull(ValidationRecord.TryRead(dir.Path, Key, Listing(Entries)));

        Assert.Null(ValidationRecord.TryRead(dir.Path, Key.Replace("skia", "turbojpeg", StringComparison.Ordinal), Listing(Entries)));
        Assert.Null(ValidationRecord.TryRead(dir.Path, Key, Listing(Entries[..2])));
        Assert.Null(ValidationRecord.TryRead(dir.Path, Key, Listing(Entries[0], Entries[2], Entries[1])));
        Assert.Null(ValidationRecord.TryRead(dir.Path, Key, [.. Listing(Entries[..2]), new SourceItem(Entries[2].Id, 0, 5)]));

        var path = Path.Combine(dir.Path, ValidationRecord.FileName);
        var text = File.ReadAllText(path, Encoding.UTF8);
        foreach (var damaged in new[] { text + "{\"id\":\"extra\"}\n", text[..(text.Length / 2)], text.Replace("\"sha256\":\"", "\"sha256\":\"zz", StringComparison.Ordinal), "", "not json\n" })
        {
            File.WriteAllText(path, damaged, Encoding.UTF8);
            Assert.Null(ValidationRecord.TryRead(dir.Path, Key, Listing(Entries)));
        }

        ValidationRecord.TryDelete(dir.Path);
        Assert.False(File.Exists(path));
    }

    /// <summary>The record of <see cref="Entries"/> written into <paramref name="dir"/>: its path and its text.</summary>
    private static (string Path, string Text) WriteRecord(TempDirectory dir)
    {
        ValidationRecord.TryWrite(dir.Path, Key, Entries);
        var path = Path.Combine(dir.Path, ValidationRecord.FileName);
        return (path, File.ReadAllText(path, Encoding.UTF8));
    }

    [Fact]
    public void Reads_records_with_crlf_line_ends_a_byte_order_mark_or_escaped_json_strings()
    {
        using var dir = new TempDirectory();
        var (path, text) = WriteRecord(dir);
        var sha = Convert.ToHexStringLower(Entries[0].Sha256);
        // Another JSON writer may escape what ours leaves plain (here a digit of the hash and of the name) or write
        // upper-case hex digits.
        var escaped = text.Replace($"\"sha256\":\"{sha}\"", $"\"sha\\u0032\\u00356\":\"{sha.ToUpperInvariant()[..10]}\\u00{(int)sha[10]:x2}{sha[11..]}\"", StringComparison.Ordinal);
        Assert.NotEqual(text, escaped);
        foreach (var variant in new[] { text.Replace("\n", "\r\n", StringComparison.Ordinal), "\uFEFF" + text, escaped, text.TrimEnd('\n') })
        {
            File.WriteAllText(path, variant, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            var read = ValidationRecord.TryRead(dir.Path, Key, Listing(Entries));
            Assert.NotNull(read);
            Assert.Equal(Entries.Select(e => (e.Id, e.Size, Convert.ToHexString(e.Sha256), e.Skip)), read.Select(e => (e.Id, e.Size, Convert.ToHexString(e.Sha256), e.Skip)));
        }
    }

    [Fact]
    public void A_line_of_over_16_MiB_or_a_hash_of_the_wrong_length_reads_as_no_record()
    {
        using var dir = new TempDirectory();
        var (path, text) = WriteRecord(dir);
        var sha = Convert.ToHexStringLower(Entries[1].Sha256);
        foreach (var damaged in new[] { text.Replace(sha, sha[..62], StringComparison.Ordinal), text.Replace(sha, sha + "00", StringComparison.Ordinal), text + new string('x', 17 << 20) })
        {
            File.WriteAllText(path, damaged, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Assert.Null(ValidationRecord.TryRead(dir.Path, Key, Listing(Entries)));
        }
    }
}
