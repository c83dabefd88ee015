namespace ZetaPrep.Sources;

/// <summary>ISIC 2020's duplicates CSV: pairs of image ids (columns image_name_1,image_name_2, else the first two columns);
/// the second of each pair is excluded, so one copy of every image stays.</summary>
internal static class DuplicateList
{
    public static HashSet<string> Read(string path)
    {
        CsvTable csv;
        try
        {
            using var stream = File.OpenRead(path);
            csv = CsvTable.Read(stream, hasHeader: true, path);
        }
        catch (IOException e)
        {
            throw new ZetaPrepException($"{path}: cannot read the duplicates list ({e.Message}).", e);
        }
        var header = csv.Header ?? [];
        var second = IndexOf(header, "image_name_2");
        if (second < 0)
        {
            second = 1;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, fields) in csv.Rows)
        {
            if (fields.Length <= second)
            {
                throw new ZetaPrepException($"{path} line {line}: expected two image ids (image_name_1,image_name_2); fix the row.");
            }
            ids.Add(LabelTable.NormaliseId(fields[second], $"{path} line {line}"));
        }
        return ids;
    }

    private static int IndexOf(IReadOnlyList<string> header, string name)
    {
        for (var i = 0; i < header.Count; i++)
        {
            if (string.Equals(header[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return -1;
    }
}
