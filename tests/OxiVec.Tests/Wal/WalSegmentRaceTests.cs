using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Segment rotation against retention, compression, metrics and live reads: the segment set is one value, so no
/// reader ever combines the segment list of one moment with the active segment of another.
/// </summary>
public sealed class WalSegmentRaceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void RetentionAndALiveRead_DuringARotation_KeepTheJustSealedSegmentAndSeeNoCorruption()
    {
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory);
        using var inRotation = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Thread? appender = null;
        long lastAppended = 0;
        using (var wal = WalManager.Open(disk, config))
        {
            for (long n = 1; SegmentNames(disk).Count < 2; n++)
            {
                lastAppended = wal.Append(InsertFor(n, 64));
            }

            string second = SegmentNames(disk)[1];
            long coveredByCheckpoint = FirstLsnOf(second) - 1; // everything in the first segment, nothing in the second
            bool held = false;
            disk.OnDispose = name =>
            {
                // The background sealer closes the segment just sealed: the new segment is active, the sealed one is
                // not yet closed (the sealer cut it to its records and holds it here).
                if (Thread.CurrentThread.Name == "OxiVec WAL segment sealer" && name == second && !held)
                {
                    held = true;
                    inRotation.Set();
                    release.Wait();
                }
            };

            var thread = new Thread(() =>
            {
                for (long n = lastAppended + 1; SegmentNames(disk).Count < 3; n++)
                {
                    Volatile.Write(ref lastAppended, wal.Append(InsertFor(n, 64)));
                }
            });
            Volatile.Write(ref appender, thread);
            thread.Start();
            try
            {
                Assert.True(inRotation.Wait(Patience), "the appender never rotated");

                // A background checkpoint's retention, metrics and a live read, all inside the rotation.
                int removed = wal.RemoveSegmentsThrough(coveredByCheckpoint);
                Assert.Equal(1, removed);
                Assert.Contains(second, SegmentNames(disk));
                WalMetrics metrics = wal.GetMetrics();
                WalVerifyReport live = new WalReader(disk, wal.Segments.All).Verify();
                Assert.Equal(2, metrics.SegmentCount);
                Assert.Equal(coveredByCheckpoint + 1, metrics.LastLsn - metrics.TotalEntries + 1);
                Assert.True(live.IsValid, string.Join("; ", live.Issues.Select(i => $"{i.SegmentFile}@{i.Offset}: {i.Message}")));
            }
            finally
            {
                release.Set();
                Assert.True(thread.Join(Patience));
            }
        }

        disk.OnDispose = null;
        using var reopened = WalManager.Open(disk, config);
        long first = FirstLsnOf(SegmentNames(disk)[0]);
        Assert.Equal(
            Enumerable.Range((int)first, (int)(lastAppended - first + 1)).Select(n => (long)n),
            reopened.ReadRecords().Select(r => r.Lsn));
    }

    [Fact]
    public async Task WritersRotationRetentionCompressionAndLiveReads_Concurrently_LoseNothingAfterTheRetainedLsn()
    {
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { SyncIntervalMs = 10_000 };
        // Writers go on until retention and live reads have each run Rounds times. Each pass waits for PerPass new
        // records (about 3 rotations of the 64 KiB segments), and the writers keep at most PerRound records ahead
        // of the slower of the two, so all three overlap throughout (pacing by counts, never by time).
        const int Writers = 3, Rounds = 40, PerRound = 900, PerPass = 300;
        long retainedThrough = 0, appended = 0;
        int retentionRuns = 0, liveReads = 0;
        bool Finished() => Volatile.Read(ref retentionRuns) >= Rounds && Volatile.Read(ref liveReads) >= Rounds;
        bool MayAppend() => Volatile.Read(ref appended) < (Math.Min(Volatile.Read(ref retentionRuns), Volatile.Read(ref liveReads)) + 1) * PerRound;
        using var gate = new ReaderWriterLockSlim();
        using (var wal = WalManager.Open(disk, config))
        {
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
            {
                for (int i = 0; SpinWait.SpinUntil(() => MayAppend() || Finished(), Patience) && !Finished(); i++)
                {
                    wal.Append(InsertFor((w * 1_000_000) + i, 64));
                    Interlocked.Increment(ref appended);
                }
            }))];

            // Retention as a checkpoint would run it: through an LSN that is written, never past it.
            Task retention = Task.Run(() =>
            {
                for (long seen = 0; !Finished(); seen = Volatile.Read(ref appended))
                {
                    SpinWait.SpinUntil(() => Volatile.Read(ref appended) >= seen + PerPass || Finished(), Patience);
                    wal.Sync();
                    long target = Math.Max(0, wal.DurableLsn - 150); // usually inside the active or the last sealed segment
                    gate.EnterWriteLock(); // live reads of old segments and their deletion take turns; rotation does not
                    try
                    {
                        wal.RemoveSegmentsThrough(target);
                        wal.CompressSealedSegments(TimeSpan.Zero);
                        Volatile.Write(ref retainedThrough, Math.Max(Volatile.Read(ref retainedThrough), target));
                    }
                    finally
                    {
                        gate.ExitWriteLock();
                    }

                    Interlocked.Increment(ref retentionRuns);
                }
            });

            Task reads = Task.Run(() =>
            {
                for (long seen = 0; !Finished(); seen = Volatile.Read(ref appended))
                {
                    SpinWait.SpinUntil(() => Volatile.Read(ref appended) >= seen + PerPass || Finished(), Patience);
                    gate.EnterReadLock();
                    try
                    {
                        WalVerifyReport live = new WalReader(disk, wal.Segments.All).Verify();
                        Assert.True(live.IsValid, string.Join("; ", live.Issues.Select(i => $"{i.SegmentFile}@{i.Offset}: {i.Message}")));
                        long from = Volatile.Read(ref retainedThrough) + 1;
                        long expected = from;
                        foreach (WalRecord record in wal.ReadRecords(from))
                        {
                            Assert.Equal(expected++, record.Lsn);
                        }
                    }
                    finally
                    {
                        gate.ExitReadLock();
                    }

                    Interlocked.Increment(ref liveReads);
                }
            });

            await Task.WhenAll([.. writers, retention, reads]).WaitAsync(Patience * 4);
            Assert.True(wal.GetMetrics().SegmentCount >= 1);
        }

        Assert.True(Finished(), $"retention ran {retentionRuns} times, live reads {liveReads}");
        Assert.True(appended >= Rounds * PerPass, $"only {appended} records appended");
        using var reopened = WalManager.Open(disk, config);
        long total = appended;
        Assert.Equal(total, reopened.LastLsn);
        List<long> lsns = [.. reopened.ReadRecords(retainedThrough + 1).Select(r => r.Lsn)];
        Assert.Equal(retainedThrough + 1, lsns[0]);
        Assert.Equal(Enumerable.Range((int)(retainedThrough + 1), (int)(total - retainedThrough)).Select(n => (long)n), lsns);
    }

    internal static List<string> SegmentNames(SimulatedDisk disk) =>
        [.. disk.ListFiles(WalSegmentName.Suffix).Concat(disk.ListFiles(WalSegmentCompression.Suffix)).Order(StringComparer.Ordinal)];

    internal static long FirstLsnOf(string name) =>
        WalSegmentName.TryParse(name, out _, out long lsn) ? lsn : throw new ArgumentException(name);
}
