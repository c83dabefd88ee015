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

    /// <summary>Data rows with their 1-based line numbers; blank lines are skipped.</summary>
    public IReadOnlyList<(int Line, string[] Fields)> Rows { get; }

    public static CsvTable Read(Stream stream, bool hasHeader)
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
            // A quoted field may span lines: keep reading while quotes are unbalanced.
            while (line.Count(c => c == '"') % 2 == 1 && reader.ReadLine() is { } more)
            {
                lineNo++;
                line += "\n" + more;
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var fields = Split(line);
            if (hasHeader && header is null)
            {
                header = fields;
                continue;
            }
            rows.Add((start, fields));
        }
        return new CsvTable(header, rows);
    }

    private static string[] Split(string line)
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
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        fields.Add(field.ToString().Trim());
        return [.. fields];
    }
}
