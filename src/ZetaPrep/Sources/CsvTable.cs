using System.Text;

namespace ZetaPrep.Sources;

/// <summary>A small CSV parser for label files as downloaded: UTF-8 with or without BOM, LF or CRLF, RFC 4180 quotes.</summary>
internal sealed class CsvTable
{
    private CsvTable(IReadOnlyList<string>? header, IReadOnlyList<(int Line, string[] Fields)> rows)
    {
        Header = header;
        Rows = rows;
    }

    /// <summary>The header's fields (trimmed), or null for a file read without one.</summary>
    public IReadOnlyList<string>? Header { get; }

    /// <summary>Data rows with their 1-based line numbers; rows with every field empty (blank lines, `,,`) are skipped.</summary>
    public IReadOnlyList<(int Line, string[] Fields)> Rows { get; }

    /// <summary>
    /// Strict UTF-8: a file saved in Latin-1 or cp1252 (a spreadsheet's "CSV" on Windows) or a binary file fails, where
    /// the default decoder put U+FFFD in place of the bytes and class names such as "café" reached the manifest and card
    /// mangled (QA).
    /// </summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads <paramref name="stream"/>, named <paramref name="file"/> in errors.</summary>
    public static CsvTable Read(Stream stream, bool hasHeader, string file)
    {
        try
        {
            return ReadText(stream, hasHeader, file);
        }
        catch (DecoderFallbackException e)
        {
            var bytes = e.BytesUnknown is { Length: > 0 } b ? $" (bytes {Convert.ToHexString(b)})" : "";
            throw new ZetaPrepException($"{file}: not UTF-8 text{bytes}: a label file saved in another encoding (Latin-1, Windows-1252) or not a CSV; save it as UTF-8 CSV (e.g. iconv -f cp1252 -t utf-8), or use the file as downloaded.", e);
        }
    }

    private static CsvTable ReadText(Stream stream, bool hasHeader, string file)
    {
        // detectEncodingFromByteOrderMarks drops a UTF-8 BOM, which would otherwise glue itself to the first column name
        // (and reads a UTF-16 file by its BOM).
        using var reader = new StreamReader(stream, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        var rows = new List<(int, string[])>();
        string[]? header = null;
        var lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            var start = lineNo;
            var record = new Record();
            CheckLength(line.Length, file, start);
            // A quoted field may span lines: keep reading while the record ends inside one (each line parsed once).
            string[]? fields;
            while ((fields = record.Feed(line)) is null)
            {
                if (reader.ReadLine() is not { } more)
                {
                    throw new ZetaPrepException($"{file} line {start}: a quoted field opens here and is never closed; add the closing \" or remove the stray one.");
                }
                lineNo++;
                line = "\n" + more;
                CheckLength(record.Length + line.Length, file, start);
            }
            // Blank lines, and the rows of bare commas that Excel leaves after data it once held.
            if (fields.All(f => f.Length == 0))
            {
                continue;
            }
            if (header is null && rows.Count == 0)
            {
                RefuseOtherSeparators(fields, file, start);
            }
            if (hasHeader && header is null)
            {
                header = fields;
                continue;
            }
            rows.Add((start, fields));
        }
        return new CsvTable(header, rows);
    }

    /// <summary>
    /// A label file has at least two columns (an id and a label): a first record that is one field holding semicolons or
    /// tabs is a file saved with another separator (a spreadsheet in a locale whose list separator is ';', or a TSV),
    /// which read as CSV was refused as a missing column, naming an option the user had not passed (QA).
    /// </summary>
    private static void RefuseOtherSeparators(string[] fields, string file, int line)
    {
        if (fields.Length != 1)
        {
            return;
        }
        var separator = fields[0].Contains(';', StringComparison.Ordinal) ? "semicolons" : fields[0].Contains('\t', StringComparison.Ordinal) ? "tabs" : null;
        if (separator is not null)
        {
            throw new ZetaPrepException($"{file} line {line}: its fields are separated by {separator}, not commas (a spreadsheet saved in a locale that lists with ';', or a TSV); save it as comma-separated CSV, or use the file as downloaded.");
        }
    }

    /// <summary>The longest record read (characters): a label row is an id and a few labels.</summary>
    internal const int MaxRecordChars = 1 << 20;

    /// <summary>
    /// A record longer than <see cref="MaxRecordChars"/> is refused: a stray quote had the rest of the file read as one
    /// field (each line re-split as it was added: quadratic), and a 100 MB value was echoed whole in the error.
    /// </summary>
    private static void CheckLength(long length, string file, int line)
    {
        if (length > MaxRecordChars)
        {
            throw new ZetaPrepException($"{file} line {line}: a record of over {MaxRecordChars / 1024} K characters, more than any label row needs (a \" that opens a quoted field and is never closed, or not a CSV file?); fix the file.");
        }
    }

    /// <summary>One record's fields, parsed line by line as they come (a record spans lines inside a quoted field).</summary>
    private sealed class Record
    {
        private readonly List<string> _fields = [];
        private readonly StringBuilder _field = new();
        private bool _quoted;

        /// <summary>Characters fed so far.</summary>
        public long Length { get; private set; }

        /// <summary>Parses <paramref name="text"/> on from where the last call left off; the trimmed fields once the record ends outside a quoted field, else null (it goes on on the next line).</summary>
        public string[]? Feed(string text)
        {
            Length += text.Length;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (_quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    {
                        _field.Append('"');
                        i++;
                    }
                    else if (c == '"')
                    {
                        _quoted = false;
                    }
                    else
                    {
                        _field.Append(c);
                    }
                }
                else if (c == ',')
                {
                    _fields.Add(_field.ToString().Trim());
                    _field.Clear();
                }
                // As RFC 4180 and Python's csv: a quote opens quoting only at the start of a field (blanks before it are trimmed
                // anyway); anywhere else it is a character, so `5" wide` is five inches, not a field running into the next rows.
                else if (c == '"' && IsBlank(_field))
                {
                    _field.Clear();
                    _quoted = true;
                }
                else
                {
                    _field.Append(c);
                }
            }
            if (_quoted)
            {
                return null;
            }
            _fields.Add(_field.ToString().Trim());
            return [.. _fields];
        }
    }

    private static bool IsBlank(StringBuilder field)
    {
        for (var i = 0; i < field.Length; i++)
        {
            if (!char.IsWhiteSpace(field[i]))
            {
                return false;
            }
        }
        return true;
    }
}
