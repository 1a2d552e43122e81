namespace OxiVec.Wal;

/// <summary>Crash-safe creation of segment files, and opening a live segment whatever its name is at that instant.</summary>
internal static class WalSegmentFiles
{
    /// <summary>
    /// Opens <paramref name="segment"/> for reading. While its rename is pending (<see cref="SegmentBound.PendingName"/>)
    /// the file is under one of its two names, and the rename is atomic: so the name, then the temporary name, then the
    /// name again, and one of the three opens unless the file is gone.
    /// </summary>
    /// <exception cref="FileNotFoundException">The segment file exists under neither name (removed since the set was taken).</exception>
    public static IWalFile OpenForRead(IWalStorage storage, SegmentBound segment)
    {
        if (segment.PendingName is not { } pending)
        {
            return storage.Open(segment.Name, writable: false);
        }

        try
        {
            return storage.Open(segment.Name, writable: false);
        }
        catch (FileNotFoundException)
        {
            // Not renamed yet when this looked.
        }

        try
        {
            return storage.Open(pending, writable: false);
        }
        catch (FileNotFoundException)
        {
            // Renamed in between: it is under its name now.
        }

        return storage.Open(segment.Name, writable: false);
    }

    /// <summary>
    /// Creates <paramref name="name"/> holding only <paramref name="header"/>, so that a segment file either does
    /// not exist or has a valid, durable header.
    /// </summary>
    public static IWalFile Create(IWalStorage storage, string name, in WalSegmentHeader header, long preallocateBytes)
    {
        string temp = name + WalSegmentName.TempSuffix;
        Span<byte> bytes = stackalloc byte[WalFormat.SegmentHeaderSize];
        WalFormat.WriteSegmentHeader(bytes, header);
        IWalFile file = storage.Create(temp, preallocateBytes);
        try
        {
            file.Write(0, bytes);
            file.Sync();               // the header is on disk before the name makes the file part of the log
            file.Dispose();
            storage.Rename(temp, name); // atomic: readers see no file or a whole header
            storage.SyncDirectory();    // the new name survives a power loss
            return storage.Open(name, writable: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
