using System.Runtime.InteropServices;
using OxiVec.Replication;
using OxiVec.Storage;

namespace OxiVec.Tests.Replication;

/// <summary>
/// The sender reads each batch into one reused buffer when the transport copies what it sends (gRPC serializes it:
/// <see cref="IReplicationChannel{TSend, TReceive}.CopiesOnSend"/>), and into an array of its own per batch otherwise.
/// </summary>
public sealed class SenderBufferTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Batches_ShareOneBufferOnlyWhenTheTransportCopiesOnSend_AndTheStandbysLogIsTheSameByteForByte(bool copyOnSend)
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { MaxBatchBytes = 4096 });
        StreamingTests.Seed(h.Primary, 0, 1_000); // batches of at most 4 KiB to catch up with
        var arrays = new List<byte[]>();
        var faults = new LinkFaults
        {
            Rewrite = m =>
            {
                // Before the link's copy: the array the sender handed over.
                if (m is WalBatch b && MemoryMarshal.TryGetArray(b.Frames, out ArraySegment<byte> segment))
                {
                    lock (arrays)
                    {
                        arrays.Add(segment.Array!);
                    }
                }

                return m;
            },
        };
        StandbyReceiver standby = await h.StartStandbyAsync("a", faults, copyOnSend: copyOnSend);
        await h.CaughtUpAsync(standby);
        StreamingTests.Seed(h.Primary, 1_000, 300); // and batches shipped as the primary writes them
        await h.CaughtUpAsync(standby);

        int batches, distinct;
        lock (arrays)
        {
            (batches, distinct) = (arrays.Count, arrays.Distinct(ReferenceEqualityComparer.Instance).Count());
        }

        Assert.True(batches >= 3, $"{batches} batches"); // enough for a reuse to show
        if (copyOnSend)
        {
            Assert.True(distinct <= 2, $"{distinct} buffers for {batches} batches; one stream reuses one");
        }
        else
        {
            Assert.Equal(batches, distinct); // each batch travels on in its own array
        }

        VectorDatabase replica = standby.Database;
        long first = replica.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.Equal(last, replica.Wal.LastLsn);
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(replica, first, last));
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(replica));
    }
}
