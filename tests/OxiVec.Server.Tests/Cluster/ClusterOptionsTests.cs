using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using OxiVec.Hosting.Server;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>The cluster's settings are validated when the server starts, each bad one named.</summary>
public sealed class ClusterOptionsTests
{
    private static async Task<OptionsValidationException> StartFailsAsync(Dictionary<string, string?> settings)
    {
        settings["OxiVec:DataDirectory"] = Path.Combine(Path.GetTempPath(), "oxivec-cluster-options-" + Guid.NewGuid().ToString("N"));
        settings["OxiVec:Server:Http"] = "127.0.0.1:0";
        settings["Logging:LogLevel:Default"] = "None";
        await using WebApplication app = OxiVecServer.Build([], null, settings);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }

    [Fact]
    public async Task Start_WithBadClusterSettings_FailsNamingEverySetting()
    {
        OptionsValidationException failure = await StartFailsAsync(new()
        {
            ["OxiVec:Cluster:Name"] = "prod",
            ["OxiVec:Cluster:NodeId"] = "node one",
            ["OxiVec:Cluster:Etcd"] = "https://etcd:2379",
            ["OxiVec:Cluster:Replication"] = "semi-sync",
            ["OxiVec:Cluster:SyncStandbys"] = "0",
            ["OxiVec:Cluster:LeaseTtlSeconds"] = "1",
            ["OxiVec:Cluster:AdvertiseHttp"] = "node1:6333",
            ["OxiVec:Cluster:WriteForwarding"] = "teleport",
            ["OxiVec:Replication:StandbyOf"] = "http://127.0.0.1:6334",
            ["OxiVec:Replication:NodeName"] = "n",
        });
        string message = string.Join(" ", failure.Failures);
        foreach (string setting in new[]
        {
            "OxiVec:Cluster:NodeId", "OxiVec:Cluster:Etcd", "OxiVec:Cluster:Replication", "OxiVec:Cluster:SyncStandbys", "OxiVec:Cluster:LeaseTtlSeconds",
            "OxiVec:Cluster:AdvertiseHttp", "OxiVec:Cluster:WriteForwarding", "OxiVec:Replication:StandbyOf", "OxiVec:Server:Grpc",
        })
        {
            Assert.Contains(setting, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Start_WithClusterSettingsButNoClusterName_FailsNamingIt()
    {
        OptionsValidationException failure = await StartFailsAsync(new() { ["OxiVec:Cluster:NodeId"] = "a", ["OxiVec:Cluster:Etcd"] = "http://127.0.0.1:2379" });
        Assert.Contains("OxiVec:Cluster:Name is required", string.Join(" ", failure.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_OnEveryInterfaceWithoutAdvertisedAddresses_FailsNamingThem()
    {
        OptionsValidationException failure = await StartFailsAsync(new()
        {
            ["OxiVec:Cluster:Name"] = "prod",
            ["OxiVec:Cluster:NodeId"] = "a",
            ["OxiVec:Cluster:Etcd"] = "http://127.0.0.1:2379",
            ["OxiVec:Server:Grpc"] = "0.0.0.0:0",
            ["OxiVec:Server:ApiKey"] = "key",
        });
        Assert.Contains("OxiVec:Cluster:AdvertiseGrpc is required", string.Join(" ", failure.Failures), StringComparison.Ordinal);
    }
}
