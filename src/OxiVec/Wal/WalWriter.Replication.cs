using System.Diagnostics;

namespace OxiVec.Wal;

/// <summary>
/// What replication needs from the writer: records received from a primary appended with their own LSNs and
/// timestamps, a standby mode that never appends records of its own, a cheap notification when the written or
/// durable position moves, and a retention floor that segment removal respects.
/// </summary>
internal sealed partial class WalWriter
{
    private TaskCompletionSource? _positionsWaiter;
    private WrittenWaiter? _writtenWaiter;
    private TaskCompletionSource? _failedWaiter;
    private Func<long>? _retentionFloor;

    /// <summary>A standby's WAL: only <see cref="AppendReplicated"/> appends; <see cref="Append"/> throws.</summary>
    public bool Standby { get; init; }

    /// <summary>The newest LSN written to the operating system (readable by a tail reader).</summary>
    public long WrittenLsn => Volatile.Read(ref _writtenLsn);

    /// <summary>
    /// The oldest LSN segment removal must keep (replication slots), asked at every removal; null keeps nothing extra.
    /// The function may be called under the maintenance lock: it must not call back into the writer's maintenance.
    /// </summary>
    public Func<long>? RetentionFloor
    {
        get => Volatile.Read(ref _retentionFloor);
        set => Volatile.Write(ref _retentionFloor, value);
    }

    /// <summary>
    /// A task that completes at the next change of the written or durable LSN, or when the writer fails or closes.
    /// Take it before checking the positions, then await it: a change between the two completes it.
    /// </summary>
    public Task PositionsChanged()
    {
        while (true)
        {
            if (_failure is not null)
            {
                return Task.CompletedTask;
            }

            TaskCompletionSource? current = Volatile.Read(ref _positionsWaiter);
            if (current is not null)
            {
                return current.Task;
            }

            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref _positionsWaiter, created, null) is null)
            {
                return created.Task;
            }
        }
    }

    /// <summary>
    /// A task that completes once the written LSN has moved past where it was when the task was created, or when the
    /// writer fails or closes; a change of the durable LSN alone does not complete it (a replication sender has nothing
    /// new to read then: waking it would be a thread-pool dispatch per fsync for nothing). Take it before reading the
    /// written LSN, then await it: a write between the two completes it. It may complete without a change (never late).
    /// </summary>
    public Task WrittenChanged()
    {
        while (true)
        {
            if (_failure is not null || Volatile.Read(ref _closed))
            {
                return Task.CompletedTask;
            }

            WrittenWaiter? current = Volatile.Read(ref _writtenWaiter);
            if (current is not null)
            {
                return current.Task;
            }

            var created = new WrittenWaiter(Volatile.Read(ref _writtenLsn));
            if (Interlocked.CompareExchange(ref _writtenWaiter, created, null) is null)
            {
                return created.Task;
            }
        }
    }

    /// <summary>
    /// A task that completes when the writer fails (at once when it has), never otherwise: what a commit that waits for
    /// something else before its local acknowledgement (<see cref="StartWaitFor"/>) must also watch. Every call returns
    /// the same task.
    /// </summary>
    public Task Failed()
    {
        TaskCompletionSource waiter = Volatile.Read(ref _failedWaiter)
            ?? Interlocked.CompareExchange(ref _failedWaiter, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null)
            ?? Volatile.Read(ref _failedWaiter)!;
        if (_failure is not null)
        {
            waiter.TrySetResult(); // failed before the waiter existed: SignalPositions did not see it
        }

        return waiter.Task;
    }

    /// <summary>The failure as every call of a failed writer throws it, or null while it has not failed.</summary>
    public WalFailedException? Failure => _failure is { } failure ? new WalFailedException(_storage.Directory, failure.InnerException ?? failure) : null;

    /// <summary>
    /// Starts what <see cref="WaitFor"/> and <see cref="WaitForAsync"/> wait for, without waiting: with
    /// <paramref name="durable"/>, joins the group commit's batch that will fsync <paramref name="lsn"/> (becoming its
    /// syncer on a thread-pool worker when no fsync runs), else writes the records through it. For a commit whose
    /// acknowledgement also waits for something that usually comes later (a synchronous standby's confirmation): it
    /// waits for that first, then calls <see cref="WaitForAsync"/>, which then finds <paramref name="lsn"/> done
    /// without a wake of its own. The join counts the commit in the batch; a later wait that still finds it not durable
    /// joins (and counts) again.
    /// </summary>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    public void StartWaitFor(long lsn, bool durable)
    {
        if (!durable)
        {
            WriteThrough(lsn);
            return;
        }

        if (JoinBatch(lsn, canLead: false, out bool done, out _, detached: true) is null && !done)
        {
            // This caller became the syncer: its fsync runs on a worker, as an asynchronous waiter's does after its yield.
            ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.RunHandedOffSync(), this, preferLocal: false);
        }
    }

    /// <summary>
    /// Wakes whoever waits on <see cref="PositionsChanged"/>, on <see cref="WrittenChanged"/> when the written LSN
    /// moved, or the writer failed or closed, and on <see cref="Failed"/> when it failed (nothing is allocated when
    /// nobody waits). Called after every change of the written or durable LSN, at a failure and at the close.
    /// </summary>
    private void SignalPositions()
    {
        Interlocked.Exchange(ref _positionsWaiter, null)?.TrySetResult();
        if (_failure is not null)
        {
            Volatile.Read(ref _failedWaiter)?.TrySetResult();
        }

        if (Volatile.Read(ref _writtenWaiter) is { } written
            && (Volatile.Read(ref _writtenLsn) > written.From || _failure is not null || Volatile.Read(ref _closed))
            && Interlocked.CompareExchange(ref _writtenWaiter, null, written) == written)
        {
            written.TrySetResult();
        }
    }

    /// <summary>A wait on <see cref="WrittenChanged"/>, with the written LSN when it was created.</summary>
    private sealed class WrittenWaiter(long from) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long From { get; } = from;
    }

    /// <summary>
    /// Appends records received from a primary, verified, with their LSNs, timestamps, types, flags and payloads as
    /// they are, framed in this WAL's own segments (its salt, checksum, durable distance). The first must carry the
    /// next LSN. Does no I/O (like <see cref="Append"/>); returns the last LSN.
    /// </summary>
    /// <exception cref="WalFrameException">The records do not continue this log, or one is too large for its segments; nothing is appended.</exception>
    public long AppendReplicated(IReadOnlyList<WalReplicatedRecord> records)
    {
        if (records.Count == 0)
        {
            throw new ArgumentException("There is nothing to append.", nameof(records));
        }

        foreach (WalReplicatedRecord r in records)
        {
            if (r.Payload.Length > _maxPayload)
            {
                throw new WalFrameException(
                    r.Lsn, 0, $"its payload of {r.Payload.Length} bytes does not fit in one segment of this WAL (at most {_maxPayload} bytes with SegmentSizeBytes = {_config.SegmentSizeBytes})");
            }
        }

        lock (_appendLock)
        {
            ThrowIfFailed();
            if (!Standby)
            {
                throw new InvalidOperationException($"The WAL in '{_storage.Directory}' is a primary's: it takes no replicated records.");
            }

            for (int i = 0; i < records.Count; i++)
            {
                if (records[i].Lsn != _nextLsn + i)
                {
                    throw new WalFrameException(records[i].Lsn, 0, $"LSN {_nextLsn + i} must come next in this WAL");
                }
            }

            try
            {
                long durable = Volatile.Read(ref _durableLsn);
                foreach (WalReplicatedRecord r in records)
                {
                    WriteReplicatedLocked(r, durable);
                }

                _clock.Observe(records[^1].TimestampMicros);
                long last = _nextLsn - 1;
                Volatile.Write(ref _appendedLsn, last);
                _instrumentation.RecordsAppended(records.Count);
                return last;
            }
            catch (Exception ex)
            {
                Fail(ex);
                throw;
            }
        }
    }

    private void WriteReplicatedLocked(WalReplicatedRecord r, long durableLsn)
    {
        Debug.Assert(_appendLock.IsHeldByCurrentThread, "appends are serialised by _appendLock");
        int size = WalFormat.RecordSize(r.Payload.Length);
        if (NeedsRotationLocked(size))
        {
            _appendSegment = new SegmentState(
                _appendSegment.Id + 1, _nextLsn, (uint)Random.Shared.Next(int.MinValue, int.MaxValue), WalRecord.ToMicros(_time.GetUtcNow()),
                WalSegmentName.Format(_appendSegment.Id + 1, _nextLsn), _time.GetTimestamp());
            _appendOffset = WalFormat.SegmentHeaderSize;
        }

        Span<byte> record = Reserve(size);
        r.Payload.Span.CopyTo(record[WalFormat.RecordHeaderSize..]);
        uint distance = (uint)Math.Min(uint.MaxValue, r.Lsn - durableLsn);
        WalFormat.WriteRecordHeader(record, _appendSegment.Salt, r.Lsn, r.TimestampMicros, r.Type, r.Flags, distance, r.Payload.Length);
        _appendOffset += size;
        _nextLsn = r.Lsn + 1;
    }

    /// <summary>The LSN through which removal may go: <paramref name="lsn"/>, lowered to keep what the retention floor keeps.</summary>
    private long ClampToRetentionFloor(long lsn) => RetentionFloor is { } floor ? Math.Min(lsn, floor() - 1) : lsn;
}
