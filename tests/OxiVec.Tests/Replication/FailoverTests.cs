using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class FailoverTests
{
    private static VectorDatabaseOptions Options => ReplicationHarness.Options();

    [Fact]
    public async Task Promote_ACaughtUpStandby_OpensAsPrimaryAtTheNewEpoch_AcceptsWrites_AndServesTheOldPrimarysOtherStandby()
    {
        using var temp = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var links = new FailoverLinks(stop.Token);
        VectorDatabase a = VectorDatabase.Open(temp.Sub("a"), Options);
        WalReplicator current = new(a, new ReplicationOptions(), epoch: 1);
        StandbyReceiver b = await links.StartStandbyAsync(temp.Sub("b"), "b", () => current);
        StandbyReceiver c = await links.StartStandbyAsync(temp.Sub("c"), "c", () => current);
        try
        {
            StreamingTests.Seed(a, 0, 20);
            long last = a.Wal.LastLsn;
            await FailoverLinks.CaughtUpAsync(b, last);
            await FailoverLinks.CaughtUpAsync(c, last);
            await current.DisposeAsync(); // the old primary dies
            a.Dispose();
            await b.DisposeAsync();

            PromotionResult promoted = StandbyPromotion.Promote(temp.Sub("b"), 2);
            Assert.Equal(new PromotionResult(2, last + 1), promoted);
            Assert.Equal([new EpochHistoryEntry(2, last + 1)], ReplicationFiles.ReadHistory(temp.Sub("b")));
            Assert.False(File.Exists(ReplicationFiles.PathOf(temp.Sub("b"), ReplicationFiles.StandbyFile)));

            using VectorDatabase newPrimary = VectorDatabase.Open(temp.Sub("b"), Options);
            Assert.False(newPrimary.IsStandby);
            current = new WalReplicator(newPrimary, new ReplicationOptions(), epoch: 1);
            Assert.Equal(2, current.Epoch); // from the promotion, not the argument
            StreamingTests.Seed(newPrimary, 100, 10);
            await FailoverLinks.CaughtUpAsync(c, newPrimary.Wal.LastLsn);

            Assert.Equal(2, c.Status.Epoch);
            Assert.Equal(0, c.Status.Rewinds);
            Assert.Equal(ReplicationHarness.Export(newPrimary), ReplicationHarness.Export(c.Database));
            Assert.Equal(ReplicationHarness.Stream(newPrimary, 1, newPrimary.Wal.LastLsn), ReplicationHarness.Stream(c.Database, 1, newPrimary.Wal.LastLsn));
            await current.DisposeAsync();
        }
        finally
        {
            await stop.CancelAsync();
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Promote_ReRunAfterACrashBeforeTheMarkerWasRemoved_FinishesWithOneHistoryEntry_AndAnEpochNotAboveTheSeenOneIsRefused()
    {
        string directory;
        await using (var h = new ReplicationHarness(epoch: 3))
        {
            StreamingTests.Seed(h.Primary, 0, 5);
            StandbyReceiver standby = await h.StartStandbyAsync("a");
            await h.CaughtUpAsync(standby);
            await h.StopStandbyAsync(standby);
            directory = h.StandbyDirectory("a");
            long last = h.Primary.Wal.LastLsn;

            ArgumentException low = Assert.Throws<ArgumentException>(() => StandbyPromotion.Promote(directory, 3));
            Assert.Contains("epoch 3", low.Message);
            Assert.Contains("(3)", low.Message);
            Assert.True(File.Exists(ReplicationFiles.PathOf(directory, ReplicationFiles.StandbyFile)), "a refused promotion changes nothing");

            PromotionResult first = StandbyPromotion.Promote(directory, 4);
            // A crash after the history and the epoch were written, before the marker's removal was durable:
            ReplicationFiles.WriteEpoch(directory, ReplicationFiles.StandbyFile, 3);
            Assert.Equal(first, StandbyPromotion.Promote(directory, 4));
            Assert.Equal(first, StandbyPromotion.Promote(directory, 4)); // and once complete
            Assert.Equal(new PromotionResult(4, last + 1), first);
            Assert.Equal([new EpochHistoryEntry(4, last + 1)], ReplicationFiles.ReadHistory(directory));
            Assert.Throws<InvalidOperationException>(() => StandbyPromotion.Promote(directory, 5)); // a primary now

            using VectorDatabase promoted = VectorDatabase.Open(directory, Options);
            Assert.False(promoted.IsStandby);
            Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(promoted));
        }
    }

    [Fact]
    public Task DeposedPrimary_WithADivergentTail_IsRewound_TheTailQuarantined_ItsLogThePrefixPlusTheNewPrimarysRecords() =>
        DeposedPrimaryRejoinsAsync(divergentTail: true, checkpointOnTheOldPrimary: false);

    [Fact]
    public Task DeposedPrimary_WithACheckpointCoveringItsDivergentTail_QuarantinesTheCheckpointToo_AndConverges() =>
        DeposedPrimaryRejoinsAsync(divergentTail: true, checkpointOnTheOldPrimary: true);

    [Fact]
    public Task DeposedPrimary_WhoseLogIsNoLongerThanTheNewPrimarysBranchPoint_IsNotRewound_AndConverges() =>
        DeposedPrimaryRejoinsAsync(divergentTail: false, checkpointOnTheOldPrimary: false);

    [Fact]
    public async Task Hello_OfAnOlderEpochPastTheHistorysBranchPoint_IsAnsweredWalDiverged_BeforeItStreams_AndADigestMismatchStillGetsABaseBackup()
    {
        using var temp = new TempDirectory();
        string directory = temp.Sub("p");
        using (VectorDatabase seeded = VectorDatabase.Open(directory, Options))
        {
            StreamingTests.Seed(seeded, 0, 10);
        }

        ReplicationFiles.WriteHistory(directory, [new EpochHistoryEntry(2, 6)]); // as if promoted at epoch 2 when its log ended at LSN 5
        ReplicationFiles.WriteEpoch(directory, ReplicationFiles.EpochFile, 2);
        using VectorDatabase primary = VectorDatabase.Open(directory, Options);
        await using var replicator = new WalReplicator(primary, new ReplicationOptions(), epoch: 1);
        Assert.Equal(2, replicator.Epoch);

        Assert.Equal(new WalDiverged(2, 5), await FirstAnswerAsync(replicator, new StandbyHello("old", 8, 0, Epoch: 1)));
        Assert.Equal(new WalDiverged(2, 5), await FirstAnswerAsync(replicator, new StandbyHello("old", 6, 0, Epoch: 1)));

        ulong digest5 = RecordDigest.Of(primary.Wal.TryReadRecord(5)!);
        EpochHistory history = Assert.IsType<EpochHistory>(await FirstAnswerAsync(replicator, new StandbyHello("behind", 5, digest5, Epoch: 1)));
        Assert.Equal(2, history.Epoch);
        Assert.Equal([new EpochBranch(2, 6)], history.Branches); // before any batch: the standby takes it as its own
        WalBatch batch = Assert.IsType<WalBatch>(await FirstAnswerAsync(replicator, new StandbyHello("behind", 5, digest5, Epoch: 1), index: 1));
        Assert.Equal(6, batch.FirstLsn);

        // Same epoch, so the history says nothing: the digest of its last record still tells a diverged log.
        BaseBackupRequired required = Assert.IsType<BaseBackupRequired>(await FirstAnswerAsync(replicator, new StandbyHello("odd", 8, digest5, Epoch: 2)));
        Assert.Contains("differs", required.Reason);
    }

    [Fact]
    public async Task DeposedPrimary_WhoseWalNoLongerReachesBackToTheBranchPoint_TakesABaseBackup_KeepingItsOldDataInTheQuarantine()
    {
        using var temp = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var links = new FailoverLinks(stop.Token);
        string aDir = temp.Sub("a"), bDir = temp.Sub("b");
        VectorDatabaseOptions small = new()
        {
            Wal = Options.Wal with { SegmentSizeBytes = OxiVec.Wal.WalConfig.MinSegmentSizeBytes, RetentionPolicy = RetentionPolicy.KeepLast(1) },
        };
        VectorDatabase a = VectorDatabase.Open(aDir, small);
        WalReplicator current = new(a, new ReplicationOptions(), epoch: 1);
        StandbyReceiver b = await links.StartStandbyAsync(bDir, "b", () => current);
        StreamingTests.Seed(a, 0, 5);
        await FailoverLinks.CaughtUpAsync(b, a.Wal.LastLsn);
        await b.DisposeAsync();
        await current.DisposeAsync(); // a's slot for b no longer keeps its WAL
        long keep = a.Wal.LastLsn;
        for (int batch = 0; batch < 4; batch++)
        {
            a.InsertBatch("docs", Enumerable.Range(0, 400).Select(i => new VectorRecord($"bulk{batch}-{i}", new float[] { i, batch, 1 }, new Dictionary<string, MetadataValue>())));
        }

        a.Checkpoint(); // covers the divergent tail; retention removes the segments before it
        Assert.True(a.Wal.FirstLsn > keep + 1, $"the WAL now starts at LSN {a.Wal.FirstLsn}, after the branch point {keep}");
        var oldExport = ReplicationHarness.Export(a);
        a.Dispose();

        StandbyPromotion.Promote(bDir, 2);
        using VectorDatabase newPrimary = VectorDatabase.Open(bDir, Options);
        current = new WalReplicator(newPrimary, new ReplicationOptions(), epoch: 2);
        StreamingTests.Seed(newPrimary, 100, 3);
        StandbyPromotion.Demote(aDir);
        var replaced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StandbyReceiver rejoined = await links.StartStandbyAsync(aDir, "a", () => current, small, r => r.DatabaseReplaced += (_, _) => replaced.TrySetResult());
        try
        {
            await replaced.Task.WaitAsync(ReplicationHarness.Timeout); // its own log runs far past the new primary's: wait for the replacement
            await FailoverLinks.CaughtUpAsync(rejoined, newPrimary.Wal.LastLsn);
            Assert.Equal(1, rejoined.Status.Rewinds);
            Assert.Equal(1, rejoined.BaseBackups);
            Assert.Equal(ReplicationHarness.Export(newPrimary), ReplicationHarness.Export(rejoined.Database));

            // The old content is kept whole: opened read-only elsewhere, it still holds the divergent writes.
            string kept = Path.Combine(aDir, "quarantine", $"rewind-2-{keep}", "previous-data");
            Assert.True(Directory.Exists(Path.Combine(kept, "wal")));
            string copy = temp.Sub("inspect");
            CopyDirectory(kept, copy);
            ReplicationFiles.Delete(copy, ReplicationFiles.StandbyFile);
            using VectorDatabase old = VectorDatabase.Open(copy, small);
            Assert.Equal(oldExport, ReplicationHarness.Export(old));
        }
        finally
        {
            await stop.CancelAsync();
            await rejoined.DisposeAsync();
            await current.DisposeAsync();
        }
    }

    [Fact]
    public async Task RewindInterruptedAfterItsMarkerWasWritten_IsFinishedWhenTheStandbyOpens_ThenItCatchesUpAgain()
    {
        await using var h = new ReplicationHarness();
        StandbyReceiver standby = await h.StartStandbyAsync("a"); // its WAL starts before the writes: it can be rewound into them
        StreamingTests.Seed(h.Primary, 0, 10);
        await h.CaughtUpAsync(standby);
        await h.StopStandbyAsync(standby);
        long last = h.Primary.Wal.LastLsn;

        // A crash right after the rewind's marker became durable, before anything was cut:
        string directory = h.StandbyDirectory("a");
        File.WriteAllText(ReplicationFiles.PathOf(directory, StandbyRewind.PendingFile), $$"""{"Epoch":2,"KeepThroughLsn":{{last - 3}},"Reason":"test"}""");
        StandbyReceiver reopened = await h.StartStandbyAsync("a");
        Assert.Equal(1, reopened.Status.Rewinds);
        Assert.Equal(3, reopened.Status.RecordsQuarantined);
        Assert.False(File.Exists(ReplicationFiles.PathOf(directory, StandbyRewind.PendingFile)));
        var quarantined = WalTruncation.ReadQuarantined(new FileSystemWalStorage(Path.Combine(directory, "wal")), $"quarantine/rewind-2-{last - 3}.frames")
            .Select(r => r.ToRecord()).Select(r => (r.Lsn, r.Timestamp, r.Type, r.Flags, Convert.ToHexString(r.Payload.Span))).ToList();
        Assert.Equal(ReplicationHarness.Stream(h.Primary, last - 2, last), quarantined);

        StreamingTests.Seed(h.Primary, 10, 2);
        await h.CaughtUpAsync(reopened);
        long first = reopened.Database.Wal.FirstLsn, end = h.Primary.Wal.LastLsn;
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, end), ReplicationHarness.Stream(reopened.Database, first, end));
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(reopened.Database));
    }

    [Fact]
    public async Task Promote_OfAStandbyWhoseRewindWasInterrupted_FinishesTheRewindFirst_SoTheDiscardedRecordsNeverBecomeThePrimarys()
    {
        await using var h = new ReplicationHarness();
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        StreamingTests.Seed(h.Primary, 0, 10);
        await h.CaughtUpAsync(standby);
        await h.StopStandbyAsync(standby);
        long keep = h.Primary.Wal.LastLsn - 4;
        string directory = h.StandbyDirectory("a");
        File.WriteAllText(ReplicationFiles.PathOf(directory, StandbyRewind.PendingFile), $$"""{"Epoch":2,"KeepThroughLsn":{{keep}},"Reason":"test"}""");

        Assert.Equal(new PromotionResult(3, keep + 1), StandbyPromotion.Promote(directory, 3));
        using VectorDatabase promoted = VectorDatabase.Open(directory, Options);
        Assert.Equal(keep, promoted.Wal.LastLsn);
        Assert.True(File.Exists(Path.Combine(directory, "quarantine", $"rewind-2-{keep}", "manifest.json")));
    }

    [Fact]
    public async Task Replicator_RaisingTheEpochOfAPrimaryThatHadOne_RecordsWhereTheNewEpochBegins()
    {
        using var temp = new TempDirectory();
        using VectorDatabase primary = VectorDatabase.Open(temp.Path, Options);
        await using (new WalReplicator(primary, new ReplicationOptions(), epoch: 1))
        {
        }

        Assert.Empty(ReplicationFiles.ReadHistory(temp.Path)); // a first epoch has no branch point
        StreamingTests.Seed(primary, 0, 3);
        long start = primary.Wal.LastLsn + 1;
        await using (var raised = new WalReplicator(primary, new ReplicationOptions(), epoch: 4))
        {
            Assert.Equal(4, raised.Epoch);
        }

        await using (var lower = new WalReplicator(primary, new ReplicationOptions(), epoch: 2))
        {
            Assert.Equal(4, lower.Epoch); // never goes back
        }

        Assert.Equal([new EpochHistoryEntry(4, start)], ReplicationFiles.ReadHistory(temp.Path));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string directory in Directory.GetDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    private static async Task<PrimaryMessage?> FirstAnswerAsync(WalReplicator replicator, StandbyHello hello, int index = 0)
    {
        var link = new InMemoryLink();
        using var serving = new CancellationTokenSource();
        await link.Standby.SendAsync(hello, CancellationToken.None);
        Task serve = replicator.ServeStandbyAsync(link.Primary, serving.Token);
        PrimaryMessage? first = null;
        for (int i = 0; i <= index; i++)
        {
            first = await link.Standby.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(ReplicationHarness.Timeout);
        }

        await serving.CancelAsync();
        await link.Standby.DisposeAsync();
        await serve.WaitAsync(ReplicationHarness.Timeout);
        await link.Primary.DisposeAsync();
        return first;
    }

    private static async Task DeposedPrimaryRejoinsAsync(bool divergentTail, bool checkpointOnTheOldPrimary)
    {
        using var temp = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var links = new FailoverLinks(stop.Token);
        string aDir = temp.Sub("a"), bDir = temp.Sub("b");
        VectorDatabase a = VectorDatabase.Open(aDir, Options);
        WalReplicator current = new(a, new ReplicationOptions(), epoch: 1);
        StandbyReceiver b = await links.StartStandbyAsync(bDir, "b", () => current);
        StreamingTests.Seed(a, 0, 20);
        await FailoverLinks.CaughtUpAsync(b, a.Wal.LastLsn);
        await b.DisposeAsync(); // b is cut off; a goes on alone
        long keep = a.Wal.LastLsn;
        if (divergentTail)
        {
            StreamingTests.Seed(a, 20, 8); // acknowledged by a alone (asynchronous replication)
            using (VectorTransaction tx = a.BeginTransaction())
            {
                tx.Insert("docs", "tx", new float[] { 9, 9, 9 });
                tx.Delete("docs", "id3");
                tx.Commit();
            }

            if (checkpointOnTheOldPrimary)
            {
                a.Checkpoint();
            }

            a.Delete("docs", "id4");
        }

        long aLast = a.Wal.LastLsn;
        var divergent = ReplicationHarness.Stream(a, keep + 1, aLast);
        await current.DisposeAsync();
        a.Dispose();

        Assert.Equal(new PromotionResult(2, keep + 1), StandbyPromotion.Promote(bDir, 2));
        using VectorDatabase newPrimary = VectorDatabase.Open(bDir, Options);
        current = new WalReplicator(newPrimary, new ReplicationOptions(), epoch: 2);
        StreamingTests.Seed(newPrimary, 100, 40); // more records than a's tail: a applying the last one proves it rewound
        newPrimary.Delete("docs", "id5");
        StandbyPromotion.Demote(aDir);
        StandbyReceiver rejoined = await links.StartStandbyAsync(aDir, "a", () => current);
        try
        {
            long last = newPrimary.Wal.LastLsn;
            await FailoverLinks.CaughtUpAsync(rejoined, last);

            string name = $"rewind-2-{keep}";
            Assert.Equal(divergentTail ? 1 : 0, rejoined.Status.Rewinds);
            Assert.Equal(aLast - keep, rejoined.Status.RecordsQuarantined);
            Assert.Equal(0, rejoined.BaseBackups);
            Assert.Equal(divergentTail, File.Exists(Path.Combine(aDir, "quarantine", name, "manifest.json")));
            if (divergentTail)
            {
                var quarantined = WalTruncation.ReadQuarantined(new FileSystemWalStorage(Path.Combine(aDir, "wal")), $"quarantine/{name}.frames")
                    .Select(r => r.ToRecord()).Select(r => (r.Lsn, r.Timestamp, r.Type, r.Flags, Convert.ToHexString(r.Payload.Span))).ToList();
                Assert.Equal(divergent, quarantined);
                Assert.Contains(divergent, r => r.Item3 == WalRecordType.TransactionCommit);
            }

            string[] asideCheckpoints = Directory.Exists(Path.Combine(aDir, "quarantine", name, "checkpoints"))
                ? Directory.GetDirectories(Path.Combine(aDir, "quarantine", name, "checkpoints"))
                : [];
            Assert.Equal(checkpointOnTheOldPrimary ? 1 : 0, asideCheckpoints.Length);
            Assert.DoesNotContain(
                Directory.Exists(Path.Combine(aDir, "checkpoints")) ? Directory.GetDirectories(Path.Combine(aDir, "checkpoints")) : [],
                d => long.Parse(Path.GetFileName(d)[17..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) > keep);

            // Its log is its own records through the branch point (byte for byte the same as the new primary's) and then the new primary's.
            Assert.Equal(ReplicationHarness.Stream(newPrimary, 1, last), ReplicationHarness.Stream(rejoined.Database, 1, last));
            Assert.Equal(ReplicationHarness.Export(newPrimary), ReplicationHarness.Export(rejoined.Database));
            Assert.Equal(2, rejoined.Status.Epoch);
        }
        finally
        {
            await stop.CancelAsync();
            await rejoined.DisposeAsync();
            await current.DisposeAsync();
        }
    }
}
