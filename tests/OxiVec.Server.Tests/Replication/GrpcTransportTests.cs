using OxiVec.Replication;
using OxiVec.Replication.Grpc;

namespace OxiVec.Server.Tests.Replication;

/// <summary>The gRPC transport of replication, both ends, without the engine: what is sent arrives exactly, a broken call is an IOException.</summary>
public sealed class GrpcTransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PushedStream_CarriesEveryPrimaryMessageExactly_AndTheStandbysAnswersBack()
    {
        await using GrpcTestNode node = await GrpcTestNode.StartAsync();
        using StandbyConnection connection = GrpcReplication.ConnectToStandby(node.Address, new GrpcReplicationOptions { ApiKey = "k-123" });
        using var timeout = new CancellationTokenSource(Patience);
        await using IReplicationChannel<PrimaryMessage, StandbyMessage> primary = await connection.Connect(timeout.Token);
        Task<IReplicationChannel<StandbyMessage, PrimaryMessage>> taking = node.Pushed.Connector(timeout.Token).AsTask();

        byte[] frames = new byte[(1 << 20) + 12_345];
        new Random(7).NextBytes(frames);
        var batch = new WalBatch(3, 10, 20, frames, 15, 20, 1_700_000_000_000_000) { ApplyAwaited = false };
        await primary.SendAsync(new PrimaryKeepalive(3, 0, 0, 0), timeout.Token); // the call reaches the standby, which takes it
        await using IReplicationChannel<StandbyMessage, PrimaryMessage> standby = await taking;
        Assert.Equal(new PrimaryKeepalive(3, 0, 0, 0), await standby.ReceiveAsync(timeout.Token));

        // The batch is larger than HTTP/2's windows: sending completes only while the other end reads (backpressure).
        Task<PrimaryMessage?> receiving = standby.ReceiveAsync(timeout.Token).AsTask();
        await primary.SendAsync(batch, timeout.Token);
        await primary.SendAsync(new PrimaryKeepalive(3, 20, 21, 42), timeout.Token);
        await primary.SendAsync(new BaseBackupRequired("slot lost at LSN 5"), timeout.Token);
        await primary.SendAsync(new WalDiverged(4, 17), timeout.Token);
        var received = (WalBatch)(await receiving)!;
        Assert.Equal(batch with { Frames = default }, received with { Frames = default }); // ApplyAwaited (false) included
        Assert.True(received.Frames.Span.SequenceEqual(frames), "the frames arrive byte for byte");
        Assert.Equal(new PrimaryKeepalive(3, 20, 21, 42), await standby.ReceiveAsync(timeout.Token));
        Assert.Equal(new BaseBackupRequired("slot lost at LSN 5"), await standby.ReceiveAsync(timeout.Token));
        Assert.Equal(new WalDiverged(4, 17), await standby.ReceiveAsync(timeout.Token));

        await standby.SendAsync(new StandbyHello("b", 9, 0xDEADBEEFCAFEUL, 3), timeout.Token);
        await standby.SendAsync(new StandbyProgress(20, 19, 18), timeout.Token);
        Assert.Equal(new StandbyHello("b", 9, 0xDEADBEEFCAFEUL, 3), await primary.ReceiveAsync(timeout.Token));
        Assert.Equal(new StandbyProgress(20, 19, 18), await primary.ReceiveAsync(timeout.Token));
        Assert.Equal("k-123", Assert.Single(node.ApiKeys));
    }

    [Fact]
    public async Task BatchWithA40MiBRecord_PassesTheMessageLimit()
    {
        // gRPC's default limit is 4 MiB; a batch may hold one record of up to 256 MiB (GrpcReplicationOptions.DefaultMaxMessageBytes).
        await using GrpcTestNode node = await GrpcTestNode.StartAsync();
        using StandbyConnection connection = GrpcReplication.ConnectToStandby(node.Address);
        using var timeout = new CancellationTokenSource(Patience);
        await using IReplicationChannel<PrimaryMessage, StandbyMessage> primary = await connection.Connect(timeout.Token);
        Task<IReplicationChannel<StandbyMessage, PrimaryMessage>> taking = node.Pushed.Connector(timeout.Token).AsTask();
        byte[] frames = new byte[40 << 20];
        frames[^1] = 0x5A;
        await primary.SendAsync(new PrimaryKeepalive(1, 0, 0, 0), timeout.Token);
        await using IReplicationChannel<StandbyMessage, PrimaryMessage> standby = await taking;
        Assert.IsType<PrimaryKeepalive>(await standby.ReceiveAsync(timeout.Token));
        Task<PrimaryMessage?> receiving = standby.ReceiveAsync(timeout.Token).AsTask();
        await primary.SendAsync(new WalBatch(1, 1, 1, frames, 1, 1, 0), timeout.Token);
        var received = (WalBatch)(await receiving)!;
        Assert.Equal(frames.Length, received.Frames.Length);
        Assert.Equal(0x5A, received.Frames.Span[^1]);
        Assert.True(received.ApplyAwaited, "a batch that does not say otherwise (as an older primary's) awaits the apply");
    }

    [Fact]
    public async Task PeerStopsMidStream_ReceiveThrowsIOException()
    {
        GrpcTestNode node = await GrpcTestNode.StartAsync();
        try
        {
            using StandbyConnection connection = GrpcReplication.ConnectToStandby(node.Address);
            using var timeout = new CancellationTokenSource(Patience);
            await using IReplicationChannel<PrimaryMessage, StandbyMessage> primary = await connection.Connect(timeout.Token);
            Task<IReplicationChannel<StandbyMessage, PrimaryMessage>> taking = node.Pushed.Connector(timeout.Token).AsTask();
            await primary.SendAsync(new PrimaryKeepalive(1, 0, 0, 0), timeout.Token);
            await using IReplicationChannel<StandbyMessage, PrimaryMessage> standby = await taking;
            Assert.IsType<PrimaryKeepalive>(await standby.ReceiveAsync(timeout.Token));

            await node.StopAsync();

            await Assert.ThrowsAsync<IOException>(async () => await primary.ReceiveAsync(timeout.Token));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task FollowOnANodeThatIsNoPrimary_FailsAsIOExceptionNamingWhatTheNodeIs()
    {
        await using GrpcTestNode node = await GrpcTestNode.StartAsync();
        using PrimaryConnection connection = GrpcReplication.ConnectToPrimary(node.Address);
        using var timeout = new CancellationTokenSource(Patience);
        await using IReplicationChannel<StandbyMessage, PrimaryMessage> standby = await connection.Connect(timeout.Token);
        IOException failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await standby.SendAsync(new StandbyHello("b", 0, 0, 0), timeout.Token);
            await standby.ReceiveAsync(timeout.Token);
        });
        Assert.Contains("a test node", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BaseBackupFromANodeThatIsNoPrimary_FailsAsIOException()
    {
        await using GrpcTestNode node = await GrpcTestNode.StartAsync();
        using PrimaryConnection connection = GrpcReplication.ConnectToPrimary(node.Address);
        using var timeout = new CancellationTokenSource(Patience);
        IOException failure = await Assert.ThrowsAsync<IOException>(async () => await connection.BaseBackup.StartAsync(timeout.Token));
        Assert.Contains("FailedPrecondition", failure.Message, StringComparison.Ordinal);
    }
}
