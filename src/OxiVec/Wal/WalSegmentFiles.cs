namespace OxiVec.Wal;

/// <summary>Crash-safe creation of segment files.</summary>
internal static class WalSegmentFiles
{
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
