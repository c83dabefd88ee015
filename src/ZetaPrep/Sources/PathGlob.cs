using System.Text;
using System.Text.RegularExpressions;

namespace ZetaPrep.Sources;

/// <summary>`--exclude` patterns: '*' and '?' within a path segment, '**' across segments; matched case-insensitively
/// against a file's name and its relative path, so `*mask*` drops DermoFit's mask files wherever they are.</summary>
internal sealed class PathGlob
{
    private readonly Regex[] _patterns;

    public PathGlob(IEnumerable<string> globs) => _patterns = globs.Select(ToRegex).ToArray();

    public bool IsEmpty => _patterns.Length == 0;

    public bool Matches(string relativePath)
    {
        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];
        return _patterns.Any(p => p.IsMatch(name) || p.IsMatch(relativePath));
    }

    private static Regex ToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
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
        return new Regex(sb.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
