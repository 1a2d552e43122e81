using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The active segment's written end advances without the segments lock, in a cell every segment set of the same
/// active segment shares: a seal, removal or compression that replaces the set while a write advances the end must
/// not lose that advance, and a reader must never see the end of one active segment go back.
/// </summary>
public sealed class WalWrittenEndRaceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public void SetsReplacedByMaintenanceWhileSingleAppendsWrite_NeverLoseOrLowerTheWrittenEnd()
    {
        using var temp = new TempDirectory();
        // Small segments: a rotation every few hundred records, each followed by set replacements racing the writes
        // into the new segment (the sealer's rename, compression, removal).
        WalConfig config = WalTestHelpers.Config(temp.Path, segmentSize: 64 << 10) with { SyncIntervalMs = 3_600_000 };
        const int Records = 200_000;
        int writerDone = 0;
        long writerRegressions = 0, observedRegressions = 0, observations = 0, maintenanceRounds = 0;
        long lastLsn = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(3); // dedicated threads, started together: none waits for the thread pool to grow
        using (var wal = WalManager.Open(config))
        {
            // The writer: after each of its appends is written, the active segment's end it reads must be past the
            // one it read after the previous append (each record adds bytes): an advance lost to a replaced set shows
            // as an end that did not move.
            Thread writer = Dedicated(failures, () =>
            {
                start.SignalAndWait();
                try
                {
                    (ulong Id, long Limit) previous = (0, 0);
                    for (int n = 1; n <= Records; n++)
                    {
                        long lsn = wal.AppendSingleUnacknowledged(WalTestHelpers.InsertFor(n, dimension: 16));
                        if (wal.WrittenLsn < lsn)
                        {
                            wal.WaitAcknowledged(lsn, endsWithCheckpoint: false, System.Diagnostics.Stopwatch.GetTimestamp());
                        }

                        SegmentBound active = wal.Segments.Active;
                        if (active.SegmentId == previous.Id && active.Limit <= previous.Limit)
                        {
                            Interlocked.Increment(ref writerRegressions);
                        }

                        previous = (active.SegmentId, active.Limit);
                        Volatile.Write(ref lastLsn, lsn);
                    }
                }
                finally
                {
                    Volatile.Write(ref writerDone, 1);
                }
            });

            // A reader: the active segment's end never goes back, and the active segment never goes back either.
            Thread observer = Dedicated(failures, () =>
            {
                start.SignalAndWait();
                (ulong Id, long Limit) previous = (0, 0);
                do
                {
                    SegmentBound active = wal.Segments.Active;
                    if (active.SegmentId < previous.Id || (active.SegmentId == previous.Id && active.Limit < previous.Limit))
                    {
                        Interlocked.Increment(ref observedRegressions);
                    }

                    previous = (active.SegmentId, active.Limit);
                    observations++;
                }
                while (Volatile.Read(ref writerDone) == 0);
            });

            // Maintenance: every sealed segment compressed and the older ones removed as soon as they may be, each a
            // replacement of the set while the writer writes into the active segment.
            Thread maintenance = Dedicated(failures, () =>
            {
                start.SignalAndWait();
                do
                {
                    wal.CompressSealedSegments(TimeSpan.Zero);
                    wal.RemoveSegmentsThrough(Math.Max(0, wal.DurableLsn - 2_000));
                    maintenanceRounds++;
                }
                while (Volatile.Read(ref writerDone) == 0);
            });

            Thread[] threads = [writer, observer, maintenance];
            foreach (Thread thread in threads)
            {
                thread.Start();
            }

            foreach (Thread thread in threads)
            {
                Assert.True(thread.Join(Patience), "a thread did not finish");
            }

            Assert.Empty(failures);

            Assert.True(wal.Segments.Active.SegmentId > 50, $"only {wal.Segments.Active.SegmentId} segments: too few rotations to race");
            Assert.True(maintenanceRounds > 0 && observations > 0, "maintenance and the observer ran at least once each");
            Assert.Equal(0, writerRegressions);
            Assert.Equal(0, observedRegressions);

            // Quiet now: the published end is the end of the last record, and a live read reaches that record.
            WalRecord last = wal.ReadRecords(wal.Segments.FirstLsn).Last();
            Assert.Equal(Volatile.Read(ref lastLsn), last.Lsn);
            Assert.Equal(last.Offset + WalFormat.RecordSize(last.Payload.Length), wal.Segments.Active.Limit);
        }

        using var reopened = WalManager.Open(config);
        Assert.Equal(Records, reopened.LastLsn);
    }

    /// <summary>A thread running <paramref name="body"/>, whose exception is kept in <paramref name="failures"/> (a thread's own would end the test process).</summary>
    private static Thread Dedicated(System.Collections.Concurrent.ConcurrentQueue<Exception> failures, Action body) => new(() =>
    {
        try
        {
            body();
        }
        catch (Exception ex)
        {
            failures.Enqueue(ex);
        }
    });
}
