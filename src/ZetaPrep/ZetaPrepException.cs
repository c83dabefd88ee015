namespace ZetaPrep;

/// <summary>A user error: bad input, option or environment, with a one-line message naming the file/option and the fix.</summary>
public sealed class ZetaPrepException : Exception
{
    /// <summary>Exit code 2 for usage errors (bad options), 1 for data or environment errors.</summary>
    public int ExitCode { get; }

    public ZetaPrepException(string message, int exitCode = 1, Exception? inner = null)
        : base(message, inner) => ExitCode = exitCode;

    public ZetaPrepException() : this("ZetaPrep error") { }

    public ZetaPrepException(string message) : this(message, 1) { }

    public ZetaPrepException(string message, Exception inner) : this(message, 1, inner) { }

    /// <summary>A usage error (exit code 2) about one option.</summary>
    public static ZetaPrepException Usage(string message) => new(message, 2);
}
