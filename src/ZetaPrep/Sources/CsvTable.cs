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

    /// <summary>Reads <paramref name="stream"/>, named <paramref name="file"/> in errors.</summary>
    public static CsvTable Read(Stream stream, bool hasHeader, string file)
    {
        // detectEncodingFromByteOrderMarks drops a UTF-8 BOM, which would otherwise glue itself to the first column name.
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var rows = new List<(int, string[])>();
        string[]? header = null;
        var lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            var start = lineNo;
            string[]? fields;
            // A quoted field may span lines: keep reading while the record ends inside one.
            while ((fields = Split(line)) is null)
            {
                if (reader.ReadLine() is not { } more)
                {
                    throw new ZetaPrepException($"{file} line {start}: a quoted field opens here and is never closed; add the closing \" or remove the stray one.");
                }
                lineNo++;
                line += "\n" + more;
            }
            // Blank lines, and the rows of bare commas that Excel leaves after data it once held.
            if (fields.All(f => f.Length == 0))
            {
                continue;
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

    /// <summary>The trimmed fields of one record, or null when it ends inside a quoted field (which goes on on the next line).</summary>
    private static string[]? Split(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == ',')
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            // As RFC 4180 and Python's csv: a quote opens quoting only at the start of a field (blanks before it are trimmed
            // anyway); anywhere else it is a character, so `5" wide` is five inches, not a field running into the next rows.
            else if (c == '"' && IsBlank(field))
            {
                field.Clear();
                quoted = true;
            }
            else
            {
                field.Append(c);
            }
        }
        if (quoted)
        {
            return null;
        }
        fields.Add(field.ToString().Trim());
        return [.. fields];
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
