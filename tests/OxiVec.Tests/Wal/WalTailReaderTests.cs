using System.Buffers;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

public sealed class WalTailReaderTests
{
    private static List<WalReplicatedRecord> ReadAll(WalTailReader reader, int maxBytes, out int batches)
    {
        var all = new List<WalReplicatedRecord>();
        var buffer = new ArrayBufferWriter<byte>();
        batches = 0;
        while (true)
        {
            buffer.ResetWrittenCount();
            long first = reader.NextLsn;
            int count = reader.Read(buffer, maxBytes);
            if (count == 0)
            {
                return all;
            }

            Assert.True(count == 1 || buffer.WrittenCount <= maxBytes);
            all.AddRange(WalReplicationFrames.Verify(buffer.WrittenMemory.ToArray(), first, first, first + count - 1));
            batches++;
        }
    }

    [Fact]
    public void TailReader_FollowsRotationAndCompressedSegments_InBatches_ThenTheRecordsAppendedAfter()
    {
        using var temp = new TempDirectory();
        List<WalRecord> written = WriteInserts(Config(temp.Path), 2000, dimension: 32);
        using var wal = WalManager.Open(Config(temp.Path));
        Assert.True(wal.CompressSealedSegments(TimeSpan.Zero).Segments > 0);
        using WalTailReader reader = wal.OpenTailReader(5);
        List<WalReplicatedRecord> read = ReadAll(reader, 16 << 10, out int batches);
        Assert.True(batches > 10);
        Assert.Equal(written.Skip(4).Select(r => (r.Lsn, r.Type, Convert.ToHexString(r.Payload.Span))), read.Select(r => (r.Lsn, r.Type, Convert.ToHexString(r.Payload.Span))));

        Task changed = wal.PositionsChanged();
        Assert.False(changed.IsCompleted);
        wal.Append(InsertFor(3000, 32));
        Assert.True(changed.IsCompleted); // the append wrote through: the notification fired without polling
        List<WalReplicatedRecord> more = ReadAll(reader, 16 << 10, out _);
        Assert.Equal([2001L], more.Select(r => r.Lsn));
    }

    [Fact]
    public async Task WrittenChanged_FiresOnAWrite_NotOnAnFsyncAlone_AndAtTheClose()
    {
        using var temp = new TempDirectory();
        var wal = WalManager.Open(Config(temp.Path) with { SyncIntervalMs = 3_600_000 }); // appends are written, not fsynced
        try
        {
            wal.Append(InsertFor(1, 8));
            Task written = wal.WrittenChanged();
            Task positions = wal.PositionsChanged();
            Assert.False(written.IsCompleted);

            await wal.FlushAsync(); // the durable LSN moves, the written one does not
            Assert.True(positions.IsCompleted);
            Assert.False(written.IsCompleted); // a sender has nothing new to read: it is not woken
            Assert.Same(written, wal.WrittenChanged());

            wal.Append(InsertFor(2, 8));
            Assert.True(written.IsCompleted);

            Task atClose = wal.WrittenChanged();
            Assert.False(atClose.IsCompleted);
            wal.Dispose();
            Assert.True(atClose.IsCompleted); // the close wakes it: a sender sees the WAL closed
            Assert.True(wal.WrittenChanged().IsCompleted);
        }
        finally
        {
            wal.Dispose();
        }
    }

    [Fact]
    public void TailReader_ReadAhead_ReturnsEveryRecordExactly_WithRecordsLargerThanItsBlock_AndRecordsWrittenBetweenReads()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(Config(temp.Path, segmentSize: 4 << 20));
        using WalTailReader reader = wal.OpenTailReader(1);
        var read = new List<WalReplicatedRecord>();
        long n = 0;
        foreach (int dimension in (int[])[8, 8, 100_000, 8, 50_000, 8, 8, 70_000, 8])
        {
            for (int i = 0; i < 3; i++)
            {
                wal.Append(InsertFor(++n, dimension));
            }

            // The block read ahead ends at the written end; the records written next are read from a new block.
            read.AddRange(ReadAll(reader, 1 << 20, out _));
        }

        List<WalRecord> expected = [.. wal.ReadRecords(1)];
        Assert.Contains(expected, r => r.Payload.Length > WalTailReader.BlockBytes);
        Assert.Equal(expected.Select(r => (r.Lsn, r.Type, Convert.ToHexString(r.Payload.Span))), read.Select(r => (r.Lsn, r.Type, Convert.ToHexString(r.Payload.Span))));
    }

    [Fact]
    public void TailReader_FromAnLsnRetentionRemoved_ThrowsTheTypedException()
    {
        using var temp = new TempDirectory();
        WriteInserts(Config(temp.Path), 2000, dimension: 32);
        using var wal = WalManager.Open(Config(temp.Path));
        Assert.True(wal.RemoveSegmentsThrough(1000) > 0);
        using WalTailReader reader = wal.OpenTailReader(3);
        WalSegmentRemovedException ex = Assert.Throws<WalSegmentRemovedException>(() => reader.Read(new ArrayBufferWriter<byte>(), 1 << 20));
        Assert.Equal(3, ex.Lsn);
        Assert.Equal(wal.FirstLsn, ex.FirstRetainedLsn);
    }

    [Fact]
    public void RetentionFloor_KeepsTheSegmentsItNames_WhateverRemovalAsks()
    {
        using var temp = new TempDirectory();
        WriteInserts(Config(temp.Path), 2000, dimension: 32);
        using var wal = WalManager.Open(Config(temp.Path));
        wal.RetentionFloor = () => 700;
        wal.RemoveSegmentsThrough(1900);
        Assert.True(wal.FirstLsn <= 700);
        Assert.Equal(700, wal.ReadRecords(700).First().Lsn);
    }

    [Fact]
    public void EmptyStandbyWal_StartsAtTheGivenLsn_AndTakesOnlyReplicatedRecords()
    {
        using var temp = new TempDirectory();
        WalConfig config = Config(temp.Path);
        using (var wal = WalManager.Open(new FileSystemWalStorage(temp.Path), config, standby: true, firstLsn: 501))
        {
            Assert.Equal(500, wal.LastLsn);
            Assert.Equal(501, wal.FirstLsn);
            Assert.Throws<InvalidOperationException>(() => wal.Append(InsertFor(1)));
        }

        using var reopened = WalManager.Open(new FileSystemWalStorage(temp.Path), config, standby: true);
        Assert.Equal(500, reopened.LastLsn);
        Assert.True(reopened.Verify().IsValid);
    }
}
