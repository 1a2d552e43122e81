namespace OxiVec.Cli;

/// <summary>The exit codes of every <c>oxivec</c> command.</summary>
internal static class ExitCodes
{
    /// <summary>Success (for <c>wal verify</c>: the WAL is valid, a torn tail included; for <c>health</c>: healthy).</summary>
    public const int Ok = 0;

    /// <summary>
    /// A usage error or bad input: unknown option, a directory that does not exist or holds no WAL or database, a bad
    /// vector file, a collection of another shape, an invalid filter, a database locked by another process (for
    /// <c>health</c>, <see cref="InUse"/>), a point-in-time target that is not retained, a recovery over its time limit. For <c>health</c>: a warning.
    /// </summary>
    public const int Usage = 1;

    /// <summary>
    /// The data is damaged: WAL corruption, a logged record that cannot be applied, or (in the demo) an acknowledged
    /// write that did not survive. For <c>health</c>: critical.
    /// </summary>
    public const int DataError = 2;

    /// <summary>An unexpected internal error (a bug, or an I/O failure other than corruption).</summary>
    public const int InternalError = 3;

    /// <summary>
    /// For <c>health</c>: the database is open in another process, so this one cannot open it and checked nothing
    /// (its live figures are that process's; they will come from the server).
    /// </summary>
    public const int InUse = 4;

    /// <summary>Interrupted by Ctrl+C or SIGTERM (128 + SIGINT, as shells report it); what was acknowledged stays.</summary>
    public const int Interrupted = 130;
}
