using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using OxiVec.Wal;

namespace OxiVec.Transactions;

/// <summary>
/// The coordinator's decision log: a <see cref="WalManager"/> of its own (fsync per record, group commit, CRC, torn
/// tails cut on open) holding three custom records per transaction: <c>2pc.begin</c> (gid and participant names,
/// durable before any prepare is sent), <c>2pc.commit</c> (gid; durable before any commit is sent: the decision) and
/// <c>2pc.end</c> (gid; every participant acknowledged, written without waiting for an fsync). A transaction with a
/// begin and no end is pending; without a commit record it is rolled back (presumed abort).
/// </summary>
/// <remarks>
/// Bounded: 64 KiB segments, and every <see cref="TrimEvery"/> ends the sealed segments holding only records older
/// than the oldest pending begin are deleted (<see cref="WalManager.RemoveSegmentsThrough"/>). A lost end record
/// (a crash before the next fsync) only makes recovery resend an idempotent commit or rollback.
/// </remarks>
internal sealed class TwoPhaseCommitLog : IDisposable
{
    public const string BeginOperation = "2pc.begin";
    public const string CommitOperation = "2pc.commit";
    public const string EndOperation = "2pc.end";
    public const int TrimEvery = 64;

    private readonly WalManager _wal;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, PendingTransaction> _pending; // under _lock
    private int _endsSinceTrim; // under _lock

    private TwoPhaseCommitLog(WalManager wal, Dictionary<string, PendingTransaction> pending)
    {
        _wal = wal;
        _pending = pending;
    }

    /// <summary>A transaction begun and not ended, as the log knows it.</summary>
    /// <param name="Gid">The global transaction id.</param>
    /// <param name="BeginLsn">Its begin record's LSN (what trimming keeps).</param>
    /// <param name="Participants">The participants' names.</param>
    /// <param name="Committed">Whether its commit decision is logged.</param>
    public sealed record PendingTransaction(string Gid, long BeginLsn, IReadOnlyList<string> Participants, bool Committed);

    /// <summary>The log's directory.</summary>
    public string Directory => _wal.Directory;

    /// <summary>Bytes of live records (tests: the log stays bounded).</summary>
    public long SizeBytes => _wal.CurrentSizeBytes;

    /// <summary>Opens (or creates) the log in <paramref name="directory"/> and reads its pending transactions.</summary>
    /// <exception cref="WalCorruptionException">The log is damaged other than by a torn last write, or holds a record this log never writes.</exception>
    /// <exception cref="WalLockedException">Another process has it open.</exception>
    public static TwoPhaseCommitLog Open(string directory, ILogger? logger)
    {
        var config = WalConfig.Default with { WalDir = directory, SyncIntervalMs = 0, SegmentSizeBytes = WalConfig.MinSegmentSizeBytes };
        WalManager wal = WalManager.Open(config, logger);
        try
        {
            return new TwoPhaseCommitLog(wal, Read(wal));
        }
        catch
        {
            wal.Dispose();
            throw;
        }
    }

    /// <summary>The pending transactions now.</summary>
    public IReadOnlyList<PendingTransaction> Pending()
    {
        lock (_lock)
        {
            return [.. _pending.Values.OrderBy(p => p.BeginLsn)];
        }
    }

    /// <summary>Whether <paramref name="gid"/> is pending.</summary>
    public bool IsPending(string gid)
    {
        lock (_lock)
        {
            return _pending.ContainsKey(gid);
        }
    }

    /// <summary>Logs the begin of <paramref name="gid"/> and waits until it is durable.</summary>
    /// <exception cref="InvalidOperationException">The gid is pending already.</exception>
    public async ValueTask LogBeginAsync(string gid, IReadOnlyList<string> participants, CancellationToken cancellationToken)
    {
        WalEntry entry = new WalEntry.Custom(BeginOperation, EncodeBegin(gid, participants));
        long lsn;
        lock (_lock)
        {
            if (_pending.ContainsKey(gid))
            {
                throw new InvalidOperationException($"Transaction '{gid}' is pending in the coordinator's log already; a gid is never reused.");
            }

            // Appended and registered under one lock: a trim never sees a begin record without its pending entry.
            lsn = _wal.AppendUnacknowledged([entry], transactional: false);
            _pending.Add(gid, new PendingTransaction(gid, lsn, participants, Committed: false));
        }

        await _wal.WaitAcknowledgedAsync(lsn, [entry], System.Diagnostics.Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Logs the commit decision of pending <paramref name="gid"/> and waits until it is durable.</summary>
    public async ValueTask LogCommitAsync(string gid, CancellationToken cancellationToken)
    {
        WalEntry entry = new WalEntry.Custom(CommitOperation, EncodeGid(gid));
        long lsn;
        lock (_lock)
        {
            PendingTransaction pending = _pending[gid];
            lsn = _wal.AppendUnacknowledged([entry], transactional: false);
            _pending[gid] = pending with { Committed = true };
        }

        await _wal.WaitAcknowledgedAsync(lsn, [entry], System.Diagnostics.Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Logs the end of <paramref name="gid"/> (every participant acknowledged) without waiting for an fsync, and trims
    /// the log every <see cref="TrimEvery"/> ends.
    /// </summary>
    public void LogEnd(string gid)
    {
        lock (_lock)
        {
            if (!_pending.Remove(gid))
            {
                return;
            }

            _wal.AppendUnacknowledged([new WalEntry.Custom(EndOperation, EncodeGid(gid))], transactional: false);
            if (++_endsSinceTrim >= TrimEvery)
            {
                _endsSinceTrim = 0;
                TrimLocked();
            }
        }
    }

    /// <summary>Deletes the sealed segments holding only records older than every pending begin.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            TrimLocked();
        }
    }

    /// <summary>Writes and fsyncs pending end records, then closes the log.</summary>
    public void Dispose() => _wal.Dispose();

    private void TrimLocked()
    {
        long keepFrom = _pending.Count == 0 ? _wal.LastLsn + 1 : _pending.Values.Min(p => p.BeginLsn);
        _wal.RemoveSegmentsThrough(keepFrom - 1);
    }

    private static Dictionary<string, PendingTransaction> Read(WalManager wal)
    {
        var pending = new Dictionary<string, PendingTransaction>(StringComparer.Ordinal);
        foreach (WalRecord record in wal.ReadRecords())
        {
            if (record.ToEntry() is not WalEntry.Custom custom)
            {
                throw Bad(record, $"a {record.Type} record; a coordinator's log holds only its custom records");
            }

            ReadOnlySpan<byte> payload = custom.Payload.Span;
            string gid = ReadString(ref payload, record, "gid");
            switch (custom.Operation)
            {
                case BeginOperation:
                    int count = ReadUInt16(ref payload, record, "participant count");
                    var names = new string[count];
                    for (int i = 0; i < count; i++)
                    {
                        names[i] = ReadString(ref payload, record, "participant name");
                    }

                    if (!pending.TryAdd(gid, new PendingTransaction(gid, record.Lsn, names, Committed: false)))
                    {
                        throw Bad(record, $"a second begin of pending transaction '{gid}'");
                    }

                    break;
                case CommitOperation:
                    pending[gid] = pending.TryGetValue(gid, out PendingTransaction? begun)
                        ? begun with { Committed = true }
                        : throw Bad(record, $"the commit of transaction '{gid}', which has no begin record before it");
                    break;
                case EndOperation:
                    // An end whose begin was trimmed is harmless (trimming runs after ends are appended).
                    pending.Remove(gid);
                    break;
                default:
                    throw Bad(record, $"unknown operation '{custom.Operation}'");
            }

            if (!payload.IsEmpty)
            {
                throw Bad(record, $"{payload.Length} bytes after the {custom.Operation} record's fields");
            }
        }

        return pending;
    }

    private static ReadOnlyMemory<byte> EncodeGid(string gid) => EncodeBegin(gid, null);

    private static byte[] EncodeBegin(string gid, IReadOnlyList<string>? participants)
    {
        // [u16 length][UTF-8 gid], then for a begin [u16 count] and [u16 length][UTF-8 name] per participant.
        int size = 2 + Encoding.UTF8.GetByteCount(gid) + (participants is null ? 0 : 2 + participants.Sum(p => 2 + Encoding.UTF8.GetByteCount(p)));
        byte[] buffer = new byte[size];
        Span<byte> span = buffer;
        Write(ref span, gid);
        if (participants is not null)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)participants.Count));
            span = span[2..];
            foreach (string name in participants)
            {
                Write(ref span, name);
            }
        }

        return buffer;
    }

    private static void Write(ref Span<byte> span, string text)
    {
        int length = Encoding.UTF8.GetBytes(text, span[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)length));
        span = span[(2 + length)..];
    }

    private static int ReadUInt16(ref ReadOnlySpan<byte> payload, WalRecord record, string field)
    {
        if (payload.Length < 2)
        {
            throw Bad(record, $"the payload ends inside the {field}");
        }

        int value = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        payload = payload[2..];
        return value;
    }

    private static string ReadString(ref ReadOnlySpan<byte> payload, WalRecord record, string field)
    {
        int length = ReadUInt16(ref payload, record, field + " length");
        if (payload.Length < length)
        {
            throw Bad(record, $"the payload ends inside the {field} ({length} bytes announced, {payload.Length} left)");
        }

        string text = Encoding.UTF8.GetString(payload[..length]);
        payload = payload[length..];
        return text;
    }

    private static WalCorruptionException Bad(WalRecord record, string what) =>
        new(record.SegmentFile, record.Offset, $"LSN {record.Lsn} of the two-phase commit log is {what}.");
}
