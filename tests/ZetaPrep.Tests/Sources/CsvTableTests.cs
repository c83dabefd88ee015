using System.Text;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>The label-file CSV reader on what spreadsheets and people actually write.</summary>
public sealed class CsvTableTests
{
    private static CsvTable Csv(string text, bool header = true) =>
        CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), header, "labels.csv");

    [Fact]
    public void AQuoteInsideAnUnquotedField_IsAPlainCharacter_AndTheNextRowsStay()
    {
        // RFC 4180 / Python csv: only a quote that opens a field starts quoting; 5" is five inches.
        var csv = Csv("image,label,note\np0,a,5\" wide lesion\np1,b,ok\np2,a,\"quoted, with a comma and \"\"quotes\"\"\"\np3,b,2\" x 3\"\n");
        Assert.Equal([2, 3, 4, 5], csv.Rows.Select(r => r.Line));
        Assert.Equal(["p0", "a", "5\" wide lesion"], csv.Rows[0].Fields);
        Assert.Equal(["p1", "b", "ok"], csv.Rows[1].Fields);
        Assert.Equal(["p2", "a", "quoted, with a comma and \"quotes\""], csv.Rows[2].Fields);
        Assert.Equal(["p3", "b", "2\" x 3\""], csv.Rows[3].Fields);
    }

    [Theory]
    [InlineData("image;MEL;NV\nISIC_0000000;1.0;0.0\n", true, "semicolons")]
    [InlineData("\nISIC_0000000\tbenign\nISIC_0000001\tmalignant\n", false, "tabs")]
    public void AFileSavedWithAnotherSeparator_IsNamedAsSuch_NotAsAMissingColumn(string text, bool header, string separator)
    {
        var e = Assert.Throws<ZetaPrepException>(() => Csv(text, header));
        Assert.Equal($"labels.csv line {(header ? 1 : 2)}: its fields are separated by {separator}, not commas (a spreadsheet saved in a locale that lists with ';', or a TSV); save it as comma-separated CSV, or use the file as downloaded.", e.Message);
        // A comma-separated file may hold semicolons and tabs inside its fields.
        Assert.Equal(["a;b", "c\td"], Csv("image,label\na;b,c\td\n").Rows[0].Fields);
    }

    [Fact]
    public void AFileInAnotherEncodingThanUtf8_IsRefused_NotReadWithReplacementCharacters()
    {
        // "café" saved as Windows-1252 (a spreadsheet's CSV): read before as "caf\uFFFD", a class name in the manifest (QA).
        byte[] latin1 = [.. "image,label\np0,caf"u8, 0xE9, .. "\np1,dog\n"u8];
        var e = Assert.Throws<ZetaPrepException>(() => CsvTable.Read(new MemoryStream(latin1), true, "labels.csv"));
        Assert.Equal("labels.csv: not UTF-8 text (bytes E9): a label file saved in another encoding (Latin-1, Windows-1252) or not a CSV; save it as UTF-8 CSV (e.g. iconv -f cp1252 -t utf-8), or use the file as downloaded.", e.Message);
        // UTF-8, with or without its BOM, and UTF-16 with one, are read.
        Assert.Equal("café", Csv("image,label\np0,café\n").Rows[0].Fields[1]);
        Assert.Equal("café", CsvTable.Read(new MemoryStream([.. Encoding.UTF8.GetPreamble(), .. "image,label\np0,café\n"u8]), true, "l.csv").Rows[0].Fields[1]);
        Assert.Equal("café", CsvTable.Read(new MemoryStream([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("image,label\np0,café\n")]), true, "l.csv").Rows[0].Fields[1]);
    }

    [Fact]
    public void AQuotedField_MaySpanLines_AndLaterRowsKeepTheirLineNumbers()
    {
        var csv = Csv("image,note\np0,\"two\nlines\"\np1,x\n");
        Assert.Equal([2, 4], csv.Rows.Select(r => r.Line));
        Assert.Equal(["p0", "two\nlines"], csv.Rows[0].Fields);
        Assert.Equal(["p1", "x"], csv.Rows[1].Fields);
    }

    [Fact]
    public void AQuotedFieldThatNeverCloses_IsAnError_NamingTheLineItOpensOn()
    {
        // Rather than every later row silently becoming part of one field.
        var e = Assert.Throws<ZetaPrepException>(() => Csv("image,label,note\np0,a,ok\np1,b,\"5 wide lesion\np2,a,ok\np3,b,ok\n"));
        Assert.Equal("labels.csv line 3: a quoted field opens here and is never closed; add the closing \" or remove the stray one.", e.Message);
    }

    [Fact]
    public void RowsWithEveryFieldEmpty_AreSkipped_AsExcelWritesThemAfterTheData()
    {
        var csv = Csv("image,label\r\np0,a\r\n,\r\np1,b\r\n,,\r\n\"\", \r\n,\r\n");
        Assert.Equal([2, 4], csv.Rows.Select(r => r.Line));
        Assert.Equal(["p0", "a"], csv.Rows[0].Fields);
        Assert.Equal(["p1", "b"], csv.Rows[1].Fields);
        Assert.Equal(["p9", "x"], Csv(",\np9,x\n", header: false).Rows.Single().Fields);
    }

    [Fact]
    public void ARecordOverTheLimit_IsRefusedNamingItsLine_WithoutTheValue()
    {
        var huge = new string('x', CsvTable.MaxRecordChars + 1);
        var e = Assert.Throws<ZetaPrepException>(() => Csv($"image,label\np0,a\np1,{huge}\n"));
        Assert.StartsWith("labels.csv line 3: a record of over 1024 K characters", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length < 300);

        // A quote that never closes: the rest of the file is one record, refused once it passes the limit.
        var lines = string.Concat(Enumerable.Range(0, 40_000).Select(i => $"p{i},label number {i} with some text\n"));
        e = Assert.Throws<ZetaPrepException>(() => Csv($"image,label\np,\"a\n{lines}"));
        Assert.StartsWith("labels.csv line 2: a record of over", e.Message, StringComparison.Ordinal);
    }
}
