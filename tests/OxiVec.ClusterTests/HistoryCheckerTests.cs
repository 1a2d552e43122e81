using OxiVec.ClusterTests.History;

namespace OxiVec.ClusterTests;

/// <summary>The history checker finds each broken promise, and nothing in a history that kept them.</summary>
public sealed class HistoryCheckerTests
{
    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>Records write <paramref name="id"/> ("v{id}") sent at <paramref name="sent"/>, acknowledged by <paramref name="node"/> under <paramref name="epoch"/> at <paramref name="acked"/> (null: never answered).</summary>
    private static void Write(WriteHistory history, long id, string node, long epoch, int sent, int? acked)
    {
        history.Attempted(new WriteAttempt(id, $"v{id}", Ms(sent)));
        if (acked is { } at)
        {
            history.Acknowledged(new WriteAck(id, $"v{id}", node, epoch, id, Ms(sent), Ms(at)));
        }
    }

    private static Dictionary<long, string> Content(params long[] ids) => ids.ToDictionary(id => id, id => $"v{id}");

    /// <summary>a leads epoch 10 (writes 1-4), b takes over with epoch 20 (writes 5-6); write 7 was never answered.</summary>
    private static WriteHistory Failover()
    {
        var history = new WriteHistory();
        for (int id = 1; id <= 4; id++)
        {
            Write(history, id, "a", 10, id * 10, (id * 10) + 5);
        }

        Write(history, 5, "b", 20, 100, 105);
        Write(history, 6, "b", 20, 110, 115);
        Write(history, 7, "b", 20, 120, null);
        return history;
    }

    [Theory]
    [InlineData(AckMode.Async)]
    [InlineData(AckMode.Sync)]
    [InlineData(AckMode.Quorum)]
    public void Check_AHistoryWithEveryAcknowledgedWritePresent_FindsNoViolation(AckMode mode)
    {
        HistoryVerdict verdict = HistoryChecker.Check(Failover(), Content(1, 2, 3, 4, 5, 6), mode);

        Assert.Empty(verdict.Violations);
        Assert.Empty(verdict.Lost);
        Assert.Equal(6, verdict.Acknowledged);
    }

    [Fact]
    public void Check_AnUnansweredWrite_MayBePresentOrAbsent()
    {
        Assert.Empty(HistoryChecker.Check(Failover(), Content(1, 2, 3, 4, 5, 6, 7), AckMode.Sync).Violations);
        Assert.Equal(1, HistoryChecker.Check(Failover(), Content(1, 2, 3, 4, 5, 6, 7), AckMode.Sync).IndeterminatePresent);
    }

    [Theory]
    [InlineData(AckMode.Sync)]
    [InlineData(AckMode.Quorum)]
    public void Check_InSyncOrQuorumMode_AnyLostAcknowledgedWrite_IsAViolation(AckMode mode)
    {
        HistoryVerdict verdict = HistoryChecker.Check(Failover(), Content(1, 2, 3, 5, 6), mode);

        Assert.Contains("acknowledged write 4 ", Assert.Single(verdict.Violations), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_InAsyncMode_ATailOfADeposedEpochMayBeLost_AndIsReported()
    {
        HistoryVerdict verdict = HistoryChecker.Check(Failover(), Content(1, 2, 5, 6), AckMode.Async);

        Assert.Empty(verdict.Violations);
        Assert.Equal([3L, 4L], verdict.Lost.Select(a => a.Id).Order());
    }

    [Fact]
    public void Check_InAsyncMode_AHoleInADeposedEpoch_IsAViolation()
    {
        HistoryVerdict verdict = HistoryChecker.Check(Failover(), Content(1, 2, 4, 5, 6), AckMode.Async);

        Assert.Contains("not a tail", Assert.Single(verdict.Violations), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_InAsyncMode_ALostWriteOfTheFinalEpoch_IsAViolation()
    {
        HistoryVerdict verdict = HistoryChecker.Check(Failover(), Content(1, 2, 3, 4, 5), AckMode.Async, finalEpoch: 20);

        Assert.Contains("final epoch 20", Assert.Single(verdict.Violations), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_APointNeverWritten_OrAWrongValue_IsAViolation()
    {
        var content = Content(1, 2, 3, 4, 5, 6);
        content[6] = "torn";
        content[99] = "v99";

        HistoryVerdict verdict = HistoryChecker.Check(Failover(), content, AckMode.Sync);

        Assert.Equal(2, verdict.Violations.Count);
        Assert.Contains(verdict.Violations, v => v.StartsWith("id 6 holds 'torn'", StringComparison.Ordinal));
        Assert.Contains(verdict.Violations, v => v.StartsWith("id 99 is on the final primary but was never written", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_TwoNodesAcknowledgingUnderOneEpoch_IsAViolation()
    {
        WriteHistory history = Failover();
        Write(history, 8, "a", 20, 130, 135);

        HistoryVerdict verdict = HistoryChecker.Check(history, Content(1, 2, 3, 4, 5, 6, 8), AckMode.Sync);

        Assert.Contains(verdict.Violations, v => v == "epoch 20 was acknowledged by 2 nodes: a, b");
    }

    [Fact]
    public void Check_ADeposedPrimaryAcknowledgingAWriteSentAfterItsSuccessorServed_IsAViolation()
    {
        WriteHistory history = Failover();
        Write(history, 8, "a", 10, 108, 140); // sent after b acknowledged write 5 at 105 ms

        HistoryVerdict verdict = HistoryChecker.Check(history, Content(1, 2, 3, 4, 5, 6, 8), AckMode.Sync);

        Assert.Contains("write 8 was sent at 108 ms and acknowledged by node a under epoch 10, after epoch 20", Assert.Single(verdict.Violations), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AnOldEpochWriteSentBeforeTheSuccessorServed_IsNoViolation()
    {
        WriteHistory history = Failover();
        Write(history, 8, "a", 10, 90, 140); // in flight across the failover: sent at 90 ms, before b's first acknowledgement

        Assert.Empty(HistoryChecker.Check(history, Content(1, 2, 3, 4, 5, 6, 8), AckMode.Sync).Violations);
    }
}
