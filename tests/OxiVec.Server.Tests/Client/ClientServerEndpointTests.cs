using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientServerEndpointTests(ClientServer server) : IClassFixture<ClientServer>
{
    private OxiVecClient Client => server.Client;

    [Fact]
    public async Task Checkpoint_WalMetrics_Health_AndRecovery_AreTyped()
    {
        await Client.CreateCollectionAsync("e_wal", new VectorParams(2, Distance.Dot));
        UpdateResult write = await Client.UpsertAsync("e_wal", [new PointStruct(1, new float[] { 1, 2 })]);

        WalMetricsReport metrics = await Client.GetWalMetricsAsync();
        Assert.True(metrics.LastLsn >= write.OperationId);
        Assert.False(metrics.IsFailed);
        Assert.NotEmpty(metrics.CommitsPerSyncHistogram);

        CheckpointResult checkpoint = await Client.CheckpointAsync();
        Assert.True(checkpoint.CoveredLsn >= write.OperationId);
        Assert.True(Directory.Exists(checkpoint.Path) || File.Exists(checkpoint.Path), checkpoint.Path);

        WalHealthResult health = await Client.GetWalHealthAsync();
        Assert.True(health.Status is "healthy" or "warning", health.Status);
        Assert.False(health.Metrics.IsFailed);

        RecoveryReport recovery = await Client.GetRecoveryAsync();
        Assert.True(recovery.WalOpen.IsNew);
        Assert.Equal(0, recovery.CorruptedEntries);
    }
}
