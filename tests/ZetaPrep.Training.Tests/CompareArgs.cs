namespace ZetaPrep.Training.Tests;

/// <summary>compare command lines for tests: a base set of options with some replaced or added.</summary>
internal static class CompareArgs
{
    /// <summary><paramref name="args"/> with each "--option value" pair of <paramref name="overrides"/> replacing the option's value, or appended.</summary>
    public static string[] With(string[] args, params string[] overrides)
    {
        var result = args.ToList();
        for (int i = 0; i + 1 < overrides.Length; i += 2)
        {
            int at = result.IndexOf(overrides[i]);
            if (at >= 0)
            {
                result[at + 1] = overrides[i + 1];
            }
            else
            {
                result.AddRange([overrides[i], overrides[i + 1]]);
            }
        }

        return [.. result];
    }
}
