using System.Text;
using System.Text.RegularExpressions;

namespace ZetaPrep.Sources;

/// <summary>`--exclude` patterns: '*' and '?' within a path segment, '**' across segments; matched case-insensitively
/// against a file's name and its relative path, so `*mask*` drops DermoFit's mask files wherever they are.</summary>
internal sealed class PathGlob
{
    private readonly string[] _globs;
    private readonly Regex[] _patterns;
    private readonly int[] _hits; // 1 once pattern i matched a file (set from the listing's threads)

    public PathGlob(IEnumerable<string> globs)
    {
        _globs = [.. globs];
        _patterns = [.. _globs.Select(g => ToRegex(g, ignoreCase: true))];
        _hits = new int[_patterns.Length];
    }

    public bool IsEmpty => _patterns.Length == 0;

    /// <summary>Whether any pattern matches; every pattern is tried, so that each one's use is known (<see cref="Unmatched"/>).</summary>
    public bool Matches(string relativePath)
    {
        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];
        var any = false;
        for (var i = 0; i < _patterns.Length; i++)
        {
            if (_patterns[i].IsMatch(name) || _patterns[i].IsMatch(relativePath))
            {
                Volatile.Write(ref _hits[i], 1);
                any = true;
            }
        }
        return any;
    }

    /// <summary>The patterns that have matched no file so far (a typo, or a '*' expected to cross a '/').</summary>
    public IReadOnlyList<string> Unmatched => [.. _globs.Where((_, i) => Volatile.Read(ref _hits[i]) == 0)];

    /// <summary>
    /// A glob as loaders read one (fsspec for HuggingFace datasets, DuckDB) and as --exclude does: '*' and '?' within a path
    /// segment, '**' across segments ('**/' zero or more whole folders), anchored at both ends of the whole path (a name
    /// may hold a newline).
    /// </summary>
    internal static Regex ToRegex(string glob, bool ignoreCase)
    {
        var sb = new StringBuilder("\\A");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 2 < glob.Length && glob[i + 1] == '*' && glob[i + 2] == '/')
            {
                // "**/": zero or more whole folders, so **/masks/** is also the masks folder at the top (QA), as in
                // gitignore and fsspec.
                sb.Append("(?:.*/)?");
                i += 2;
            }
            else if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                sb.Append(".*");
                i++;
            }
            else if (c == '*')
            {
                sb.Append("[^/]*");
            }
            else if (c == '?')
            {
                sb.Append("[^/]");
            }
            else
            {
                sb.Append(Regex.Escape(c.ToString()));
            }
        }
        var options = RegexOptions.CultureInvariant | RegexOptions.Singleline | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        return new Regex(sb.Append("\\z").ToString(), options, TimeSpan.FromSeconds(1));
    }
}
