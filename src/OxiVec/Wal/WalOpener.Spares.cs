using Microsoft.Extensions.Logging;

namespace OxiVec.Wal;

/// <summary>
/// Opening, for the spares a previous process left: a rotation writes the next segment's first records into a spare
/// before the sealer names it (docs/wal-format.md, "Rotation"), so a spare may hold acknowledged records.
/// </summary>
internal static partial class WalOpener
{
    /// <summary>
    /// Adopts the spare that continues the log exactly: its header names the segment after the newest one and, as its
    /// first LSN, the one after the newest segment's last record, and that segment ends cleanly (no torn tail, no
    /// damage; the control file records no failed fsync). Adoption is the sealer's sequence: the newest segment is
    /// fsynced (a later segment proves it complete), the spare fsynced (its header and records are durable before it
    /// has a name), renamed to its segment name, and the directory fsynced. Every other spare is set aside: its bytes
    /// kept in the quarantine when it holds a segment header (records that a power loss separated from the log they
    /// continued; none was ever published durable, because that waits for the sequence above), then deleted. Returns
    /// true when a spare was adopted (the caller lists the segments again). When the newest segment is corrupt and
    /// corrupted entries are not to be skipped, nothing is touched: opening refuses the WAL.
    /// </summary>
    private static bool SettleSpares(
        IWalStorage storage, WalReader reader, List<SegmentBound> segments, IReadOnlyList<string> spares, WalControlState? control, bool skipCorrupted, ILogger logger)
    {
        string? adopt = null;
        WalSegmentHeader header = default;
        if (segments.Count > 0 && control is not { SyncFailed: true })
        {
            SegmentBound last = segments[^1];
            TailScan tail;
            try
            {
                tail = ScanTail(reader, last, openTransaction: null, skipped: null);
            }
            catch (WalCorruptionException) when (!skipCorrupted)
            {
                return false; // opening reports it below
            }

            if (tail.End.Kind == WalSegmentEndKind.Corrupt && !skipCorrupted)
            {
                return false;
            }

            if (tail.End.Kind == WalSegmentEndKind.Clean)
            {
                foreach (string spare in spares)
                {
                    if (ReadSpareHeader(storage, spare) is { } h && h.SegmentId == last.SegmentId + 1 && h.FirstLsn == tail.LastLsn + 1)
                    {
                        (adopt, header) = (spare, h);
                        break;
                    }
                }
            }

            if (adopt is not null)
            {
                using (IWalFile newest = storage.Open(last.Name, writable: true))
                {
                    newest.Sync(); // whole on disk before a later segment's name says so
                }
            }
        }

        foreach (string spare in spares.Where(n => n != adopt))
        {
            SetAside(storage, spare, logger);
        }

        if (adopt is not null)
        {
            string name = WalSegmentName.Format(header.SegmentId, header.FirstLsn);
            using (IWalFile file = storage.Open(adopt, writable: true))
            {
                file.Sync(); // its header and records are durable before the name makes it part of the log
            }

            storage.Rename(adopt, name);
            logger.LogInformation(
                "WAL: adopted '{Spare}' as '{Segment}': a rotation had begun the segment there when the process stopped, and it continues the log exactly.",
                adopt, name);
        }

        storage.SyncDirectory(); // the rename, and the deletions
        return adopt is not null;
    }

    /// <summary>Keeps the bytes of a spare that holds a segment header in the quarantine, then deletes it.</summary>
    private static void SetAside(IWalStorage storage, string spare, ILogger logger)
    {
        if (ReadSpareHeader(storage, spare) is not null)
        {
            string copy;
            using (IWalFile file = storage.Open(spare, writable: false))
            {
                copy = WalQuarantine.Keep(storage, file, spare, 0, 0);
            }

            logger.LogWarning(
                "WAL: '{Spare}' began a segment that does not continue the log (a power loss cut the log before it); its bytes are kept in '{Copy}'.",
                spare, Path.Combine(storage.Directory, copy));
        }
        else
        {
            logger.LogInformation("WAL: removing '{File}', a spare segment never used.", spare);
        }

        storage.Delete(spare);
    }

    /// <summary>The segment header at the start of <paramref name="spare"/>, or null when it holds none (a spare never used).</summary>
    private static WalSegmentHeader? ReadSpareHeader(IWalStorage storage, string spare)
    {
        Span<byte> bytes = stackalloc byte[WalFormat.SegmentHeaderSize];
        int read;
        using (IWalFile file = storage.Open(spare, writable: false))
        {
            read = file.Read(0, bytes);
        }

        return WalFormat.TryReadSegmentHeader(bytes[..read], out WalSegmentHeader header, out _) ? header : null;
    }
}
