namespace ZetaPrep.Manifests;

/// <summary>A command line as recorded in manifest.json: words joined by spaces, POSIX-shell single-quoted where needed.</summary>
public static class ShellWords
{
    /// <summary>Joins <paramref name="words"/>, quoting one that is empty or holds whitespace or a quote ('…', with ' as '\'').</summary>
    public static string Join(IEnumerable<string> words) =>
        string.Join(' ', words.Select(w => w.Length == 0 || w.Any(char.IsWhiteSpace) || w.Contains('\'', StringComparison.Ordinal)
            ? "'" + w.Replace("'", "'\\''", StringComparison.Ordinal) + "'"
            : w));

    /// <summary>Splits a line written by <see cref="Join"/> back into its words (single quotes and backslash escapes, as sh does).</summary>
    public static List<string> Split(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\'')
            {
                var end = line.IndexOf('\'', i + 1);
                end = end < 0 ? line.Length : end;
                word.Append(line, i + 1, end - i - 1);
                inWord = true;
                i = end;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (c == ' ')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }
}
