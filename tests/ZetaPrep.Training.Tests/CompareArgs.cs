namespace ZetaPrep.Training.Tests;

/// <summary>compare command lines for tests: a base set of options with some replaced or added.</summary>
internal static class CompareArgs
{
    /// <summary>
    /// The tests' tiny comparison (method none, one seed, one epoch, 16², batches of 4, one thread, CPU) of
    /// <paramref name="train"/> against <paramref name="val"/> into <paramref name="outDir"/>, with <paramref name="more"/> applied as in <see cref="With"/>.
    /// </summary>
    public static string[] Tiny(string train, string val, string outDir, params string[] more) =>
        With(["compare", "--in", train, "--val", val, "--methods", "none", "--seeds", "1", "--epochs", "1", "--size", "16",
            "--batch-size", "4", "--threads", "1", "--device", "cpu", "--out", outDir, "--quiet"], more);

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
