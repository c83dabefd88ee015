using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace ZetaPrep.Cli;

/// <summary>
/// Parses every numeric option's value (invariant culture) and, when it is not a number of the option's type, reports one
/// line naming the option and its valid range, e.g. "--seed: must be an integer from 0 to 18446744073709551615 (got '-1')",
/// instead of System.CommandLine's "Cannot parse argument … as expected type 'System.UInt64'".
/// </summary>
/// <remarks>
/// The range shown is the one declared with <c>Within</c> where the option has a narrower valid range (the checks behind
/// the command still enforce it, with their own message), else the type's. A value that parses is passed on unchanged.
/// </remarks>
internal static class NumericOptions
{
    /// <summary>Installs the type-range parser on every numeric option of <paramref name="command"/> and its subcommands that has none yet.</summary>
    public static void Install(Command command)
    {
        foreach (var option in command.Options)
        {
            switch (option)
            {
                case Option<int> { CustomParser: null } o:
                    o.Within(int.MinValue, int.MaxValue);
                    break;
                case Option<int?> { CustomParser: null } o:
                    o.Within(int.MinValue, int.MaxValue);
                    break;
                case Option<long> { CustomParser: null } o:
                    o.Within(long.MinValue, long.MaxValue);
                    break;
                case Option<ulong> { CustomParser: null } o:
                    o.Within(ulong.MinValue, ulong.MaxValue);
                    break;
                case Option<double> { CustomParser: null } o:
                    o.CustomParser = r => Parse<double>(r, NumberStyles.Float, "a number, e.g. 0.5");
                    break;
                case Option<double?> { CustomParser: null } o:
                    o.CustomParser = r => Parse<double>(r, NumberStyles.Float, "a number, e.g. 0.5");
                    break;
                default:
                    break;
            }
        }
        foreach (var sub in command.Subcommands)
        {
            Install(sub);
        }
    }

    /// <summary>Declares the option's valid integer range for its parse error.</summary>
    public static Option<T> Within<T>(this Option<T> option, T min, T max)
        where T : struct, IBinaryInteger<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => Parse<T>(r, NumberStyles.Integer, IntegerRange(min, max));
        return option;
    }

    /// <summary>Declares the (nullable) option's valid integer range for its parse error.</summary>
    public static Option<T?> Within<T>(this Option<T?> option, T min, T max)
        where T : struct, IBinaryInteger<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => Parse<T>(r, NumberStyles.Integer, IntegerRange(min, max));
        return option;
    }

    /// <summary>Declares the option's valid range of numbers for its parse error.</summary>
    public static Option<double> Within(this Option<double> option, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => Parse<double>(r, NumberStyles.Float, NumberRange(min, max));
        return option;
    }

    /// <summary>Declares the (nullable) option's valid range of numbers for its parse error.</summary>
    public static Option<double?> Within(this Option<double?> option, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => Parse<double>(r, NumberStyles.Float, NumberRange(min, max));
        return option;
    }

    /// <summary>
    /// Declares the option's valid numbers in words, for ranges that are open or whose bounds read badly as doubles
    /// (<paramref name="range"/>, e.g. "above 0", "from 0 up to but not including 1"): its parse error says
    /// "must be a number <paramref name="range"/>".
    /// </summary>
    public static Option<double> Within(this Option<double> option, string range)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => Parse<double>(r, NumberStyles.Float, "a number " + range);
        return option;
    }

    /// <summary>Declares the (nullable) option's valid numbers in words (see the non-nullable overload).</summary>
    public static Option<double?> Within(this Option<double?> option, string range)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => Parse<double>(r, NumberStyles.Float, "a number " + range);
        return option;
    }

    private static string IntegerRange<T>(T min, T max)
        where T : IBinaryInteger<T> =>
        string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}");

    private static string NumberRange(double min, double max) =>
        string.Create(CultureInfo.InvariantCulture, $"a number from {min} to {max}");

    private static T Parse<T>(ArgumentResult result, NumberStyles styles, string expected)
        where T : struct, INumber<T>
    {
        // Repeated options keep the last value, as System.CommandLine's own parser does.
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        var name = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        result.AddError($"{name}: must be {expected} (got '{text}')");
        return default;
    }
}
