namespace OxiVec.Cli;

/// <summary>The exit codes of every <c>oxivec</c> command.</summary>
internal static class ExitCodes
{
    /// <summary>Success (for <c>wal verify</c>: the WAL is valid, a torn tail included).</summary>
    public const int Ok = 0;

    /// <summary>A usage error or bad input: unknown option, missing <c>--wal</c>, a directory that does not exist or holds no WAL.</summary>
    public const int Usage = 1;

    /// <summary>The data is damaged: WAL corruption, or (in the demo) an acknowledged write that did not survive.</summary>
    public const int DataError = 2;

    /// <summary>An unexpected internal error (a bug, or an I/O failure other than corruption).</summary>
    public const int InternalError = 3;
}
