using System.Text.RegularExpressions;

namespace ZetaPrep.Inspection;

/// <summary>
/// The 0-byte lock files <c>zetaprep generate</c> leaves at the output root (<c>.zetaprep.lock</c> for a single run,
/// <c>.zetaprep.worker-I-of-W.lock</c> for worker I of W): part of an output, so never reported as unknown files.
/// </summary>
public static partial class GenerateLockFile
{
    /// <summary>Whether <paramref name="relativePath"/> (relative to the output root, '/' separators) is exactly one of those names.</summary>
    public static bool IsLockFile(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return LockName().IsMatch(relativePath);
    }

    [GeneratedRegex(@"\A\.zetaprep(\.worker-[0-9]+-of-[0-9]+)?\.lock\z", RegexOptions.CultureInvariant)]
    private static partial Regex LockName();
}
