using System.Globalization;
using ZetaPrep.Manifests;

namespace ZetaPrep.Sources;

/// <summary>The labels of a label CSV, by image id: class index and, for declared soft labels, the probability vector.</summary>
internal sealed class LabelTable
{
    private const double Tolerance = 1e-3;

    private LabelTable(IReadOnlyList<string> classNames, Dictionary<string, LabelRow> rows)
    {
        ClassNames = classNames;
        Rows = rows;
    }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The same classes with only <paramref name="kept"/> rows (e.g. without known duplicates).</summary>
    public LabelTable With(IEnumerable<LabelRow> kept) => new(ClassNames, kept.ToDictionary(r => r.Id, StringComparer.Ordinal));

    /// <summary>Rows by id (ordinal; ids without an image extension).</summary>
    public IReadOnlyDictionary<string, LabelRow> Rows { get; }

    /// <summary>Reads <paramref name="csv"/> (named <paramref name="file"/> in errors); <paramref name="classes"/> null derives them from the file.</summary>
    public static LabelTable Parse(CsvTable csv, string file, LabelSpec spec, IReadOnlyList<string>? classes)
    {
        var header = csv.Header;
        if (spec.Header && header is null)
        {
            throw new ZetaPrepException($"{file}: empty label file; expected a header row and one row per image.");
        }
        var idColumn = spec.Header ? Column(header!, spec.IdColumn!, file, "--id-column") : 0;
        return spec.Style switch
        {
            LabelStyle.Class => ParseClassColumn(csv, file, spec, classes, idColumn),
            _ => ParseOneHot(csv, file, spec, classes, idColumn),
        };
    }

    /// <summary>An id as written in a CSV or a file name: trimmed, image extension dropped; never a path.</summary>
    public static string NormaliseId(string raw, string where) =>
        TryNormaliseId(raw, out var id) ? id : throw new ZetaPrepException($"{where}: id '{raw}' is not a plain file name (empty, a path or '..'); fix the row.");

    /// <summary><see cref="NormaliseId"/> without the error: false for what it refuses.</summary>
    public static bool TryNormaliseId(string raw, out string id)
    {
        id = raw.Trim();
        if (ImageFolderSource.ImageExtensions.Contains(Path.GetExtension(id)))
        {
            id = Path.GetFileNameWithoutExtension(id);
        }
        return !(id.Length == 0 || id is "." or ".." || id.AsSpan().IndexOfAny(['/', '\\', '\0']) >= 0 || id.Any(char.IsControl));
    }

    private static LabelTable ParseClassColumn(CsvTable csv, string file, LabelSpec spec, IReadOnlyList<string>? classes, int idColumn)
    {
        var labelColumn = spec.Header
            ? Column(csv.Header!, spec.LabelColumn ?? throw new ZetaPrepException($"{file}: no label column given; pass --label-column (or one-hot columns without it)."), file, "--label-column")
            : 1;
        var names = classes ?? ClassesOf(csv, file, labelColumn);
        var rows = new Dictionary<string, LabelRow>(StringComparer.Ordinal);
        foreach (var (line, fields) in csv.Rows)
        {
            var where = $"{file} line {line}";
            Need(fields, Math.Max(idColumn, labelColumn) + 1, where, csv.Header);
            var id = NormaliseId(fields[idColumn], where);
            var value = fields[labelColumn];
            var index = IndexOf(names, value);
            if (index < 0 && TryClassIndex(value, out var number) && number < names.Count)
            {
                index = number;
            }
            if (index < 0 && !spec.Header && line == csv.Rows[0].Line)
            {
                // The first row of a file published without a header, its label no class: a header row someone added (QA).
                throw new ZetaPrepException($"{where}: '{string.Join(",", fields)}' is not a label row ('{value}' is not a class: {string.Join(", ", names)}); this file has no header row as published, so if that line is one, remove it.");
            }
            if (index < 0)
            {
                throw new ZetaPrepException($"{where}: image {id} has label '{value}', which is not a class ({string.Join(", ", names)}) nor a class index 0..{names.Count - 1}; fix the row.");
            }
            Add(rows, new LabelRow(id, line, index, null), file);
        }
        return new LabelTable(names, rows);
    }

    /// <summary>
    /// The distinct values of the label column, sorted: by value when every one is a class index (a whole number ≥ 0), so
    /// indices 0..K-1 are classes 0..K-1 rather than "10" sorting before "2"; else ordinally. Values are matched to classes
    /// ignoring case (so "Benign" is a preset's "benign"); a column writing one class two ways ("Benign" and "benign", or
    /// "1" and "1.0") would make a phantom class, so it is refused.
    /// </summary>
    private static List<string> ClassesOf(CsvTable csv, string file, int labelColumn)
    {
        var values = csv.Rows
            .Select(r => (r.Line, Value: r.Fields.Length > labelColumn ? r.Fields[labelColumn] : ""))
            .Where(v => v.Value.Length > 0)
            .ToList();
        var indices = values.All(v => TryClassIndex(v.Value, out _));
        var first = new Dictionary<string, (string Value, int Line)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (line, value) in values)
        {
            var key = indices && TryClassIndex(value, out var k) ? k.ToString(CultureInfo.InvariantCulture) : value;
            if (!first.TryGetValue(key, out var seen))
            {
                first.Add(key, (value, line));
            }
            else if (!string.Equals(seen.Value, value, StringComparison.Ordinal))
            {
                var how = indices ? $"written another way (class index {key})" : "in another case";
                throw new ZetaPrepException($"{file} line {line}: label '{value}' is '{seen.Value}' (line {seen.Line}) {how}, which would make two classes of one; write each class one way in every row.");
            }
        }
        return indices
            ? first.OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)).Select(kv => kv.Value.Value).ToList()
            : first.Values.Select(v => v.Value).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>A label written as a class index: a whole number ≥ 0, as "3" or "3.0".</summary>
    private static bool TryClassIndex(string value, out int index)
    {
        index = -1;
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            || !double.IsFinite(number) || number != Math.Floor(number) || number < 0 || number > int.MaxValue)
        {
            return false;
        }
        index = (int)number;
        return true;
    }

    private static LabelTable ParseOneHot(CsvTable csv, string file, LabelSpec spec, IReadOnlyList<string>? classes, int idColumn)
    {
        if (!spec.Header)
        {
            throw new ZetaPrepException($"{file}: one-hot labels need a header naming the class columns.");
        }
        var header = csv.Header!;
        var names = classes ?? header.Where((_, i) => i != idColumn).ToList();
        var rest = spec.RestClass is { } r ? IndexOf(names, r) : -1;
        var columns = new int[names.Count];
        for (var c = 0; c < names.Count; c++)
        {
            columns[c] = c == rest ? -1 : Column(header, names[c], file, "the class columns");
        }
        var rows = new Dictionary<string, LabelRow>(StringComparer.Ordinal);
        var values = new double[names.Count];
        foreach (var (line, fields) in csv.Rows)
        {
            var where = $"{file} line {line}";
            Need(fields, Math.Max(idColumn, columns.Max()) + 1, where, csv.Header);
            var id = NormaliseId(fields[idColumn], where);
            double sum = 0;
            var ones = 0;
            var argmax = -1;
            for (var c = 0; c < names.Count; c++)
            {
                if (columns[c] < 0)
                {
                    values[c] = 0;
                    continue;
                }
                var text = fields[columns[c]];
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v) || v < 0 || v > 1)
                {
                    throw new ZetaPrepException($"{where}: image {id} has '{text}' in column {names[c]}; one-hot columns hold 0 or 1{(spec.Soft ? " (or a probability)" : "")}.");
                }
                if (!spec.Soft && v != 0 && v != 1)
                {
                    throw new ZetaPrepException($"{where}: image {id} has {text} in column {names[c]}, not 0 or 1; fix the row (this label file is not declared as soft labels).");
                }
                values[c] = v;
                sum += v;
                ones += v == 1 ? 1 : 0;
                if (argmax < 0 || v > values[argmax])
                {
                    argmax = c;
                }
            }
            if (rest >= 0)
            {
                values[rest] = Math.Max(0, 1 - sum);
                if (values[rest] > values[argmax])
                {
                    argmax = rest;
                }
            }
            if (!spec.Soft)
            {
                if (ones > 1)
                {
                    throw new ZetaPrepException($"{where}: image {id} has several classes set ({string.Join(", ", names.Where((_, c) => columns[c] >= 0 && values[c] == 1))}); a one-hot row sets exactly one; fix the row.");
                }
                if (ones == 0 && rest < 0)
                {
                    throw new ZetaPrepException($"{where}: image {id} has no class set (all of {string.Join(", ", names)} are 0); a one-hot row sets exactly one; fix the row.");
                }
                Add(rows, new LabelRow(id, line, ones == 0 ? rest : argmax, null), file);
                continue;
            }
            var total = values.Sum();
            if (Math.Abs(total - 1) > Tolerance)
            {
                throw new ZetaPrepException(string.Create(CultureInfo.InvariantCulture, $"{where}: image {id} has probabilities summing to {total:G4}, not 1; fix the row."));
            }
            var soft = values.Select(v => (float)(v / total)).ToArray();
            Add(rows, new LabelRow(id, line, argmax, soft.Count(v => v != 0) == 1 ? null : soft), file);
        }
        return new LabelTable(names, rows);
    }

    private static void Add(Dictionary<string, LabelRow> rows, LabelRow row, string file)
    {
        if (!rows.TryAdd(row.Id, row))
        {
            throw new ZetaPrepException($"{file}: image {row.Id} appears twice (lines {rows[row.Id].Line} and {row.Line}); remove one of the rows.");
        }
    }

    private static int Column(IReadOnlyList<string> header, string name, string file, string option)
    {
        for (var i = 0; i < header.Count; i++)
        {
            if (string.Equals(header[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        throw new ZetaPrepException($"{file}: no column '{name}' in the header ({string.Join(",", header)}); check {option}.");
    }

    private static int IndexOf(IReadOnlyList<string> names, string value)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], value, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// The row has the fields read from it, and no values past the header's columns: a row with one value too many has
    /// its values shifted against the header (a stray comma), and reading the columns by position took the wrong ones
    /// while the extra field was dropped. Empty fields past the header (Excel's trailing commas) are fine.
    /// </summary>
    private static void Need(string[] fields, int count, string where, IReadOnlyList<string>? header)
    {
        if (fields.Length < count)
        {
            throw new ZetaPrepException($"{where}: {fields.Length} field(s), expected at least {count}; fix the row.");
        }
        if (header is not null && fields.Length > header.Count && fields.Skip(header.Count).Any(f => f.Length > 0))
        {
            throw new ZetaPrepException($"{where}: {fields.Length} fields where the header has {header.Count} (a value past its last column, '{fields[^1]}'); a stray comma shifts the row: fix it.");
        }
    }
}

/// <summary>One label row: the image id, its line in the file, class index and soft label (declared soft labels only).</summary>
internal sealed record LabelRow(string Id, int Line, int ClassIndex, float[]? SoftLabel);
