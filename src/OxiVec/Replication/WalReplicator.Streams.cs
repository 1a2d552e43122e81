using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>The sender and receiver loops of one stream, and the state they update.</summary>
public sealed partial class WalReplicator
{
    private async Task SendLoopAsync(
        string name, long id, WalTailReader reader, IReplicationChannel<PrimaryMessage, StandbyMessage> channel, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Min(_options.MaxBatchBytes, 1 << 20) + 4096);
        // A transport that copies what it sends (gRPC serializes the batch) is done with the frames when the send
        // completes: the next batch is read into the same buffer, one array less per batch (about 330 bytes per
        // single-point commit). Otherwise each batch gets its own array, as the message itself travels on.
        bool reuseBuffer = channel.CopiesOnSend;
        Task? keepalive = null;
        bool sentSinceKeepalive = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_wal.IsClosedOrFailed)
            {
                return; // the database closed or its WAL failed: nothing more will be written
            }

            Task changed = _wal.WrittenChanged(); // before reading: a write after the read completes it (an fsync alone does not)
            buffer.ResetWrittenCount();
            long first = reader.NextLsn;
            int count;
            try
            {
                // Woken without a new write (a spurious wake), there is nothing new to read: no read at all.
                count = reader.NextLsn <= _wal.WrittenLsn ? reader.Read(buffer, _options.MaxBatchBytes) : 0;
            }
            catch (WalSegmentRemovedException ex)
            {
                string reason = $"the WAL from LSN {ex.Lsn} that standby '{name}' needs was removed (the WAL now starts at LSN {ex.FirstRetainedLsn})";
                _logger.LogWarning("Replication: {Reason}; it must take a base backup.", reason);
                await channel.SendAsync(new BaseBackupRequired(reason), cancellationToken).ConfigureAwait(false);
                return;
            }

            if (count > 0)
            {
                ReadOnlyMemory<byte> frames = reuseBuffer ? buffer.WrittenMemory : buffer.WrittenSpan.ToArray();
                long last = first + count - 1;
                long firstTimestamp = BinaryPrimitives.ReadInt64LittleEndian(frames.Span[(WalReplicationFrames.SaltSize + 16)..]);
                // Sent is no position the commit gate counts: the gate's verdict stands, only the lag's state changes.
                Update(name, id, e => e with { SentLsn = last, InFlight = e.InFlight.Enqueue(new InFlightBatch(last, frames.Length, firstTimestamp)) }, gate: false);
                var batch = new WalBatch(Epoch, first, last, frames, _wal.DurableLsn, _wal.LastLsn, NowMicros()) { ApplyAwaited = _applyAwaited };
                await channel.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                _metrics.Sent(count, frames.Length);
                sentSinceKeepalive = true;
                continue;
            }

            keepalive ??= Task.Delay(_options.KeepaliveInterval, _time, cancellationToken);
            Task woke = await Task.WhenAny(changed, keepalive).ConfigureAwait(false);
            if (woke == keepalive)
            {
                keepalive = null;
                cancellationToken.ThrowIfCancellationRequested();
                if (!sentSinceKeepalive)
                {
                    await channel.SendAsync(new PrimaryKeepalive(Epoch, _wal.DurableLsn, _wal.LastLsn, NowMicros()), cancellationToken).ConfigureAwait(false);
                }

                sentSinceKeepalive = false;
            }
        }
    }

    private async Task ReceiveLoopAsync(string name, long id, IReplicationChannel<PrimaryMessage, StandbyMessage> channel, CancellationToken cancellationToken)
    {
        while (true)
        {
            StandbyMessage? message = await channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            switch (message)
            {
                case null:
                    return; // the standby closed the stream
                case StandbyProgress p:
                    Update(name, id, e => e with
                    {
                        WrittenLsn = Math.Max(e.WrittenLsn, p.WrittenLsn),
                        FlushedLsn = Math.Max(e.FlushedLsn, p.FlushedLsn),
                        AppliedLsn = Math.Max(e.AppliedLsn, p.AppliedLsn),
                        SlotRetainFromLsn = Math.Max(e.SlotRetainFromLsn, p.FlushedLsn + 1),
                        InFlight = Flushed(e.InFlight, p.FlushedLsn),
                    });
                    break;
                default:
                    throw new InvalidDataException($"Standby '{name}' sent a {message.GetType().Name} in the middle of a stream; only progress reports are expected.");
            }
        }
    }

    private static ImmutableQueue<InFlightBatch> Flushed(ImmutableQueue<InFlightBatch> inFlight, long flushed)
    {
        while (!inFlight.IsEmpty && inFlight.Peek().LastLsn <= flushed)
        {
            inFlight = inFlight.Dequeue();
        }

        return inFlight;
    }

    /// <summary>A stream starts: the standby is connected with its log's end, and its slot keeps the WAL after it (durably).</summary>
    private void Connect(StandbyHello hello, long id)
    {
        lock (_stateLock)
        {
            StandbyEntry entry = _state.Standbys.TryGetValue(hello.Name, out StandbyEntry? existing)
                ? existing with { ConnectionId = id, WrittenLsn = hello.LastLsn, FlushedLsn = hello.LastLsn, AppliedLsn = Math.Min(existing.AppliedLsn, hello.LastLsn) }
                : new StandbyEntry(hello.Name, id, hello.LastLsn, hello.LastLsn, 0, 0, hello.LastLsn, []);
            entry = entry with { SlotRetainFromLsn = hello.LastLsn + 1, SentLsn = hello.LastLsn, InFlight = [] };
            Publish(_state with { Standbys = _state.Standbys.SetItem(hello.Name, entry) });
            PersistSlotsLocked();
        }
    }

    private void Disconnect(string name, long id)
    {
        lock (_stateLock)
        {
            if (_state.Standbys.TryGetValue(name, out StandbyEntry? entry) && entry.ConnectionId == id)
            {
                Publish(_state with { Standbys = _state.Standbys.SetItem(name, entry with { ConnectionId = 0, InFlight = [] }) });
            }

            PersistSlotsLocked();
        }
    }

    /// <summary>Changes the entry of <paramref name="name"/> when the stream <paramref name="id"/> still serves it.</summary>
    /// <param name="name">The standby.</param>
    /// <param name="id">The stream.</param>
    /// <param name="change">The change.</param>
    /// <param name="gate">
    /// False when <paramref name="change"/> changes nothing the commit gate counts (whether the standby is connected and
    /// its written, flushed and applied LSNs): the gate's verdict, set and degraded state are kept as they are.
    /// </param>
    private void Update(string name, long id, Func<StandbyEntry, StandbyEntry> change, bool gate = true)
    {
        lock (_stateLock)
        {
            if (_state.Standbys.TryGetValue(name, out StandbyEntry? entry) && entry.ConnectionId == id)
            {
                Publish(_state with { Standbys = _state.Standbys.SetItem(name, change(entry)) }, gate);
            }
        }
    }

    /// <summary>Publishes <paramref name="state"/> with the commit gate's verdict on it (<paramref name="gate"/> false: the verdict it carries).</summary>
    private void Publish(ReplicatorState state, bool gate = true)
    {
        if (gate && _gate is not null && Volatile.Read(ref _disposed) == 0)
        {
            _gate.Update(state.Standbys.ToDictionary(p => p.Key, p => new StandbyPosition(p.Value.Connected, p.Value.At(_options.AckLevel)), StringComparer.Ordinal));
            state = state with { SyncSet = _gate.SyncSet, Degraded = _gate.Degraded };
        }

        Volatile.Write(ref _state, state);
    }

    /// <summary>
    /// The retention floor the WAL asks for at every segment removal: the oldest LSN a slot keeps (its standby's last
    /// record, for the divergence check, and everything after). A slot whose WAL passed the cap is invalidated first.
    /// </summary>
    private long RetentionFloor()
    {
        long floor = long.MaxValue;
        lock (_stateLock)
        {
            WalSegmentSet segments = _wal.Segments;
            ReplicatorState state = _state;
            foreach (StandbyEntry entry in state.Standbys.Values.Where(e => e.SlotRetainFromLsn > 0))
            {
                long keepFrom = Math.Max(1, entry.SlotRetainFromLsn - 1);
                long bytes = BytesFrom(segments, keepFrom);
                if (bytes > _options.MaxSlotWalKeepBytes)
                {
                    _logger.LogWarning(
                        "Replication: the slot of standby '{Name}' keeps {Bytes} bytes of WAL from LSN {Lsn}, more than MaxSlotWalKeepBytes ({Cap}): it is invalidated, and the standby will need a base backup.",
                        entry.Name, bytes, keepFrom, _options.MaxSlotWalKeepBytes);
                    _metrics.SlotInvalidated();
                    state = state with { Standbys = state.Standbys.SetItem(entry.Name, entry with { SlotRetainFromLsn = 0 }) };
                    continue;
                }

                floor = Math.Min(floor, keepFrom);
            }

            Publish(state);
            PersistSlotsLocked();
        }

        return floor;
    }

    private void PersistSlotsLocked()
    {
        try
        {
            ReplicationFiles.WriteSlots(_database.DataDirectory, [.. _state.Standbys.Values.Select(e => new Slot(e.Name, e.SlotRetainFromLsn))]);
        }
        catch (IOException ex)
        {
            // The in-memory slots still hold the WAL; only a restart of the primary would forget them.
            _logger.LogError(ex, "Replication: the slots could not be saved in '{Directory}'.", _database.DataDirectory);
        }
    }

    /// <summary>Bytes of the segments that hold records at or after <paramref name="lsn"/> (whole segments: an upper bound).</summary>
    private static long BytesFrom(WalSegmentSet segments, long lsn)
    {
        long bytes = segments.Active.Limit;
        for (int i = segments.Sealed.Count - 1; i >= 0 && segments.LastLsnOfSealed(i) >= lsn; i--)
        {
            bytes += segments.Sealed[i].Limit;
        }

        return bytes;
    }

    private static long LagBytes(StandbyEntry e, WalSegmentSet segments, long last)
    {
        if (e.FlushedLsn >= last)
        {
            return 0;
        }

        if (!e.Connected)
        {
            return BytesFrom(segments, e.FlushedLsn + 1);
        }

        long inFlight = e.InFlight.Sum(b => b.Bytes);
        return inFlight + (e.SentLsn < last ? BytesFrom(segments, e.SentLsn + 1) : 0);
    }

    private double LagMs(StandbyEntry e, long last, long nowMicros)
    {
        if (e.FlushedLsn >= last)
        {
            return 0;
        }

        long oldest = !e.InFlight.IsEmpty
            ? e.InFlight.Peek().FirstTimestampMicros
            : _wal.TryReadRecord(e.FlushedLsn + 1) is { } record ? WalRecord.ToMicros(record.Timestamp) : nowMicros;
        return Math.Max(0, nowMicros - oldest) / 1000.0;
    }

    private long NowMicros() => WalRecord.ToMicros(_time.GetUtcNow());
}
