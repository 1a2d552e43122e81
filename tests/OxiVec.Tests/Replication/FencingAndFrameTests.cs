using CsCheck;
using OxiVec.Replication;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class FencingAndFrameTests
{
    [Fact]
    public async Task Fencing_AStandbyThatSawANewerEpoch_PersistsIt_AndTheOlderPrimaryRefusesIt()
    {
        await using var h = new ReplicationHarness();
        StreamingTests.Seed(h.Primary, 0, 5);
        var faults = new LinkFaults();
        StandbyReceiver standby = await h.StartStandbyAsync("a", faults);
        await h.CaughtUpAsync(standby);

        faults.Rewrite = m => m is WalBatch b ? b with { Epoch = 7 } : m; // as if a newer primary sent it
        StreamingTests.Seed(h.Primary, 5, 1);
        await h.CaughtUpAsync(standby);
        Assert.Equal(7, standby.Status.Epoch);
        Assert.Equal(7, ReplicationFiles.ReadEpoch(h.StandbyDirectory("a"), ReplicationFiles.StandbyFile));

        // The epoch-1 primary sees the standby's epoch 7 in its hello and refuses to stream: nothing more arrives.
        var link = new InMemoryLink();
        await link.Standby.SendAsync(new StandbyHello("b", standby.Database.Wal.LastLsn, 0, Epoch: 7), CancellationToken.None);
        await h.Replicator.ServeStandbyAsync(link.Primary, CancellationToken.None).WaitAsync(ReplicationHarness.Timeout);
        await link.Primary.DisposeAsync();
        Assert.Null(await link.Standby.ReceiveAsync(CancellationToken.None));
        Assert.DoesNotContain(h.Replicator.GetStatus().Standbys, s => s.Name == "b");
    }

    [Fact]
    public async Task Fencing_ABatchOfAnOlderEpoch_IsRefused_TheStreamClosed_NothingWritten()
    {
        await using var h = new ReplicationHarness(epoch: 3);
        StreamingTests.Seed(h.Primary, 0, 5);
        var faults = new LinkFaults();
        StandbyReceiver standby = await h.StartStandbyAsync("a", faults);
        await h.CaughtUpAsync(standby);
        long before = standby.Database.Wal.LastLsn;

        int stale = 0;
        faults.Rewrite = m => m is WalBatch b && Interlocked.Increment(ref stale) == 1 ? b with { Epoch = 2 } : m;
        StreamingTests.Seed(h.Primary, 5, 10);
        await h.CaughtUpAsync(standby);
        Assert.Contains("older than epoch 3", standby.Status.LastError);
        Assert.Equal(3, standby.Status.Epoch);
        long first = standby.Database.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.True(before < last);
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(standby.Database, first, last));
    }

    [Fact]
    public async Task CorruptedFrame_TheBatchIsRefusedWholeWithNothingWritten_TheStandbyReconnectsAndCatchesUp()
    {
        await using var h = new ReplicationHarness();
        StreamingTests.Seed(h.Primary, 0, 5);
        var faults = new LinkFaults();
        StandbyReceiver standby = await h.StartStandbyAsync("a", faults);
        await h.CaughtUpAsync(standby);

        int corrupted = 0;
        long lastLsnWhenRefused = -1;
        faults.Rewrite = m =>
        {
            if (m is WalBatch b && b.LastLsn > b.FirstLsn && Interlocked.Increment(ref corrupted) == 1)
            {
                lastLsnWhenRefused = standby.Database.Wal.LastLsn;
                byte[] frames = b.Frames.ToArray();
                frames[^9] ^= 0x10; // inside the last frame: the frames before it are valid, and still nothing may be written
                return b with { Frames = frames };
            }

            return m;
        };
        using (OxiVec.Storage.VectorTransaction tx = h.Primary.BeginTransaction())
        {
            tx.Insert("docs", "t1", new float[] { 1, 1, 1 });
            tx.Insert("docs", "t2", new float[] { 2, 2, 2 });
            tx.Commit();
        }

        await h.CaughtUpAsync(standby);
        Assert.Contains("checksum mismatch", standby.Status.LastError);
        long first = standby.Database.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(standby.Database, first, last));
        Assert.True(lastLsnWhenRefused >= 0);
    }

    private static readonly Gen<(long Timestamp, byte Type, byte Flags, byte[] Payload)> AnyRecord =
        Gen.Select(Gen.Long[0, long.MaxValue / 2], Gen.Int[0, 2].Select(i => (byte)(i switch { 0 => WalRecordType.Insert, 1 => WalRecordType.Delete, _ => WalRecordType.Custom })),
            Gen.Bool.Select(member => member ? (byte)WalRecordFlags.TransactionMember : (byte)0), Gen.Byte.Array[0, 70]);

    [Fact]
    public void Frames_EncodeThenVerify_RoundTrips_AndAnySingleBitFlipIsRefusedNamingTheLsn()
    {
        Gen.Select(AnyRecord.Array[1, 6], Gen.Long[1, 1_000_000], Gen.UInt, Gen.Int[0, int.MaxValue]).Sample((records, firstLsn, salt, flipSeed) =>
        {
            byte[][] frames = [.. records.Select((r, i) => WalReplicationFrames.Encode(salt, firstLsn + i, r.Timestamp, (WalRecordType)r.Type, (WalRecordFlags)r.Flags, 3, r.Payload))];
            byte[] batch = [.. frames.SelectMany(f => f)];
            long lastLsn = firstLsn + records.Length - 1;
            List<WalReplicatedRecord> decoded = WalReplicationFrames.Verify(batch, firstLsn, firstLsn, lastLsn);
            Assert.Equal(records.Select((r, i) => (firstLsn + i, r.Timestamp, r.Type, r.Flags, Convert.ToHexString(r.Payload))),
                decoded.Select(d => (d.Lsn, d.TimestampMicros, (byte)d.Type, (byte)d.Flags, Convert.ToHexString(d.Payload.Span))));

            int bit = flipSeed % (batch.Length * 8);
            byte[] flipped = (byte[])batch.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            var ex = Assert.ThrowsAny<IOException>(() => WalReplicationFrames.Verify(flipped, firstLsn, firstLsn, lastLsn));
            Assert.Contains("LSN", ex.Message);
            Assert.Throws<WalFrameException>(() => WalReplicationFrames.Verify(batch, firstLsn + 1, firstLsn, lastLsn)); // not contiguous with the log
        });
    }

    [Fact]
    public void Frames_FlipInAFrame_NamesThatFramesLsn()
    {
        byte[] a = WalReplicationFrames.Encode(7, 10, 1, WalRecordType.Insert, WalRecordFlags.None, 0, [1, 2, 3]);
        byte[] b = WalReplicationFrames.Encode(9, 11, 2, WalRecordType.Delete, WalRecordFlags.None, 0, [4, 5]);
        byte[] batch = [.. a, .. b];
        batch[a.Length + WalReplicationFrames.SaltSize + 33] ^= 1; // b's payload
        WalFrameException ex = Assert.Throws<WalFrameException>(() => WalReplicationFrames.Verify(batch, 10, 10, 11));
        Assert.Equal(11, ex.Lsn);
        Assert.Equal(a.Length, ex.Offset);
        Assert.Contains("checksum", ex.Reason);
    }
}
