namespace OxiVec.Cli;

/// <summary>
/// A failure the user can act on (bad input, a missing directory, a collection of another shape): its message is
/// printed as the one-line error and <see cref="ExitCode"/> is returned. Never used for damaged data the engine reports.
/// </summary>
internal class CliException : Exception
{
    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    public CliException()
        : this(ExitCodes.Usage, "bad input.")
    {
    }

    public CliException(string message)
        : this(ExitCodes.Usage, message)
    {
    }

    public CliException(string message, Exception innerException)
        : this(ExitCodes.Usage, message, innerException)
    {
    }

    /// <summary>The exit code to return (<see cref="ExitCodes.Usage"/> unless said otherwise).</summary>
    public int ExitCode { get; }
}
