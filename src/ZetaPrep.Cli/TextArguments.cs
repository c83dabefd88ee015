using System.CommandLine;
using System.CommandLine.Parsing;

namespace ZetaPrep.Cli;

/// <summary>
/// Every text option and argument of the command tree refuses an empty or blank value, such as an unset shell variable
/// gives (<c>zetaprep inspect "$OUT"</c>): commands took it for a path, and .NET's path calls threw an ArgumentException
/// from deep inside (an unhandled exception, exit 134; QA), where a parse error is one line and exit 2.
/// </summary>
internal static class TextArguments
{
    public static void Install(Command command)
    {
        foreach (var option in command.Options.Where(o => IsText(o.ValueType)))
        {
            option.Validators.Add(r => Check(r, option.Name));
        }
        foreach (var argument in command.Arguments.Where(a => IsText(a.ValueType)))
        {
            argument.Validators.Add(r => Check(r, argument.Name));
        }
        foreach (var sub in command.Subcommands)
        {
            Install(sub);
        }
    }

    private static bool IsText(Type type) => type == typeof(string) || type == typeof(string[]) || type == typeof(List<string>);

    private static void Check(SymbolResult result, string name)
    {
        if (result.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
        {
            result.AddError($"{name}: the value is empty; give one (an unset shell variable, or \"\", passes an empty value).");
        }
    }
}
