namespace OxiVec.Wal;

/// <summary>
/// The WAL holds bytes that are not a valid record where one must be: a bad checksum or an impossible header
/// before the end of the log, a missing or damaged segment header, or a gap in the LSN sequence. Unlike a torn
/// tail (the last, unacknowledged write cut short by a crash, which is repaired on open), corruption is never
/// repaired silently.
/// </summary>
public sealed class WalCorruptionException : IOException
{
    /// <summary>Creates the exception for the file <paramref name="filePath"/> at byte <paramref name="offset"/>.</summary>
    public WalCorruptionException(string filePath, long offset, string reason, Exception? innerException = null)
        : base($"WAL corruption in '{filePath}' at byte offset {offset}: {reason}", innerException)
    {
        FilePath = filePath;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The segment file.</summary>
    public string FilePath { get; }

    /// <summary>The byte offset within <see cref="FilePath"/> where the damage starts.</summary>
    public long Offset { get; }

    /// <summary>What is wrong there.</summary>
    public string Reason { get; }
}

/// <summary>Another process (or another open <see cref="WalManager"/>) is using the WAL directory.</summary>
public sealed class WalLockedException : IOException
{
    /// <summary>Creates the exception for <paramref name="directory"/>.</summary>
    public WalLockedException(string directory, Exception? innerException = null)
        : base($"The WAL directory '{directory}' is in use by another process or another open WAL; only one may write to it.", innerException)
    {
        Directory = directory;
    }

    /// <summary>The locked directory.</summary>
    public string Directory { get; }
}

/// <summary>
/// A write or fsync of the WAL failed earlier, so the log no longer accepts writes: after a failed fsync the
/// kernel may have dropped the data, and retrying could report a success that is not true. Reopen the WAL
/// (which recovers from what is on disk) once the cause is fixed.
/// </summary>
public sealed class WalFailedException : IOException
{
    /// <summary>Creates the exception; <paramref name="innerException"/> is the original failure.</summary>
    public WalFailedException(string directory, Exception innerException)
        : base($"The WAL in '{directory}' failed and refuses further writes: {innerException.Message}", innerException)
    {
    }
}
