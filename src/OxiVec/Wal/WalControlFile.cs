using System.Buffers.Binary;

namespace OxiVec.Wal;

/// <summary>
/// How far the log is known durable: every record up to <see cref="Lsn"/> was fsynced, and the last of them ends
/// at byte <see cref="Offset"/> of segment <see cref="SegmentId"/>.
/// </summary>
internal readonly record struct WalDurablePoint(ulong SegmentId, long Offset, long Lsn)
{
    /// <summary>
    /// The offset in segment <paramref name="segmentId"/> before which any invalid byte is corruption (0 when the point
    /// says nothing about that segment: segments before it are sealed and judged by their own rules, later ones by
    /// the durable distance of their records).
    /// </summary>
    public long DurableEndIn(ulong segmentId) => segmentId == SegmentId ? Offset : 0;
}

/// <summary>What the control file holds: the known-durable point and whether an fsync of the WAL has failed since.</summary>
internal readonly record struct WalControlState(WalDurablePoint Point, bool SyncFailed);

/// <summary>
/// The WAL's control file (<c>CONTROL</c>, like PostgreSQL's pg_control): records how far the log is known durable,
/// so that an invalid record at or before that point is reported as corruption instead of being cut off as a torn
/// tail. Two checksummed 512-byte slots, each in its own sector, are overwritten alternately in place with one write
/// and one fdatasync; the slot last known good is never overwritten, so a torn or failed control write always
/// leaves a valid slot. Not thread safe: <see cref="WalControlUpdater"/> serialises its use.
/// </summary>
internal sealed class WalControlFile : IDisposable
{
    /// <summary>The file's name in the WAL directory.</summary>
    public const string FileName = "CONTROL";

    /// <summary>"OXIVCTL" followed by a zero byte.</summary>
    public const ulong Magic = 0x004C54435649584F;

    /// <summary>Bytes per slot: one sector, so a torn write of one slot cannot touch the other.</summary>
    public const int SlotSize = 512;

    /// <summary>The only control format version this build reads and writes.</summary>
    public const ushort Version = 1;

    private const int PayloadSize = 64;
    private const int SMagic = 0, SVersion = 8, SFlags = 10, SSequence = 16, SSegment = 24, SOffset = 32, SLsn = 40, SChecksum = 60;
    private const ushort FlagSyncFailed = 1;

    private readonly IWalFile _file;
    private ulong _sequence;
    private int _goodSlot;

    private WalControlFile(IWalFile file, ulong sequence, int goodSlot)
    {
        _file = file;
        _sequence = sequence;
        _goodSlot = goodSlot;
    }

    /// <summary>
    /// Reads the control file. Returns null when there is none (a WAL written before the control file existed, or a
    /// new one): nothing is known durable beyond what the records' durable distances prove.
    /// </summary>
    /// <exception cref="WalCorruptionException">The file exists but neither slot is valid.</exception>
    public static WalControlState? Read(IWalStorage storage) => ReadSlots(storage)?.State;

    /// <summary>
    /// Opens the control file for updates, creating it (temp file, fdatasync, rename, directory fsync) when missing
    /// or when neither slot is valid, and records <paramref name="state"/> in it.
    /// </summary>
    public static WalControlFile OpenAndWrite(IWalStorage storage, WalControlState state)
    {
        (WalControlState State, ulong Sequence, int Slot)? existing;
        try
        {
            existing = ReadSlots(storage);
        }
        catch (WalCorruptionException)
        {
            existing = null; // only reached when opening was told to skip corruption; the file is rewritten whole
        }

        if (existing is null)
        {
            string temp = FileName + WalSegmentName.TempSuffix;
            if (storage.ListFiles(temp).Contains(temp))
            {
                storage.Delete(temp);
            }

            var bytes = new byte[2 * SlotSize];
            Encode(bytes.AsSpan(0, SlotSize), 1, state);
            using (IWalFile file = storage.Create(temp, 0))
            {
                file.Write(0, bytes);
                file.Sync();               // the content is on disk before the name points at it
            }

            storage.Rename(temp, FileName); // atomic: a control file is absent or whole
            storage.SyncDirectory();        // the name survives a power loss
            return new WalControlFile(storage.Open(FileName, writable: true), 1, 0);
        }

        var control = new WalControlFile(storage.Open(FileName, writable: true), existing.Value.Sequence, existing.Value.Slot);
        try
        {
            control.Write(state);
            return control;
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="state"/> into the slot not last known good, and fdatasyncs. On failure the other slot
    /// still holds the previous state; the next write goes to the same (failed) slot again.
    /// </summary>
    public void Write(WalControlState state)
    {
        Span<byte> slot = stackalloc byte[SlotSize];
        int target = 1 - _goodSlot;
        Encode(slot, _sequence + 1, state);
        _file.Write((long)target * SlotSize, slot);
        _file.Sync();
        _sequence++;
        _goodSlot = target;
    }

    public void Dispose() => _file.Dispose();

    private static (WalControlState State, ulong Sequence, int Slot)? ReadSlots(IWalStorage storage)
    {
        if (!storage.ListFiles(FileName).Contains(FileName))
        {
            return null;
        }

        var bytes = new byte[2 * SlotSize];
        int read;
        using (IWalFile file = storage.Open(FileName, writable: false))
        {
            read = file.Read(0, bytes);
        }

        (WalControlState State, ulong Sequence, int Slot)? best = null;
        string? error = null;
        for (int slot = 0; slot < 2; slot++)
        {
            if (read < (slot * SlotSize) + PayloadSize)
            {
                error ??= $"the file is {read} bytes, too short for slot {slot}";
                continue;
            }

            if (TryDecode(bytes.AsSpan(slot * SlotSize, PayloadSize), out WalControlState state, out ulong sequence, out string? problem))
            {
                if (best is null || sequence > best.Value.Sequence)
                {
                    best = (state, sequence, slot);
                }
            }
            else
            {
                error ??= $"slot {slot}: {problem}";
            }
        }

        return best ?? throw new WalCorruptionException(
            Path.Combine(storage.Directory, FileName), 0, $"neither slot of the WAL control file is valid ({error})");
    }

    private static void Encode(Span<byte> slot, ulong sequence, WalControlState state)
    {
        slot.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(slot[SMagic..], Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(slot[SVersion..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(slot[SFlags..], state.SyncFailed ? FlagSyncFailed : (ushort)0);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[SSequence..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[SSegment..], state.Point.SegmentId);
        BinaryPrimitives.WriteInt64LittleEndian(slot[SOffset..], state.Point.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(slot[SLsn..], state.Point.Lsn);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[SChecksum..], WalFormat.Crc32C(0, slot[..SChecksum]));
    }

    private static bool TryDecode(ReadOnlySpan<byte> slot, out WalControlState state, out ulong sequence, out string? problem)
    {
        state = default;
        sequence = 0;
        if (BinaryPrimitives.ReadUInt64LittleEndian(slot[SMagic..]) != Magic)
        {
            problem = "bad magic";
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(slot[SChecksum..]) != WalFormat.Crc32C(0, slot[..SChecksum]))
        {
            problem = "checksum mismatch";
            return false;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(slot[SVersion..]);
        if (version != Version)
        {
            problem = $"unsupported control file version {version}";
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt64LittleEndian(slot[SSequence..]);
        var point = new WalDurablePoint(
            BinaryPrimitives.ReadUInt64LittleEndian(slot[SSegment..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[SOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[SLsn..]));
        state = new WalControlState(point, (BinaryPrimitives.ReadUInt16LittleEndian(slot[SFlags..]) & FlagSyncFailed) != 0);
        problem = null;
        return true;
    }
}
