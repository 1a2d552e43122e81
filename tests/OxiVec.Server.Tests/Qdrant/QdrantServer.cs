namespace OxiVec.Server.Tests.Qdrant;

/// <summary>One server shared by a test class (each test uses its own collections).</summary>
public sealed class QdrantServer : IAsyncLifetime
{
    private ServerFixture? _server;

    public ServerFixture Server => _server ?? throw new InvalidOperationException("Not started.");

    public HttpClient Http => Server.Client;

    public async Task InitializeAsync() => _server = await ServerFixture.StartAsync(new Dictionary<string, string?>
    {
        ["OxiVec:SyncIntervalMs"] = "0",
        ["OxiVec:Server:MaxPointsPerRequest"] = "50",
        ["OxiVec:Server:MaxLimit"] = "100",
        ["OxiVec:Server:MaxFilterDepth"] = "4",
        ["OxiVec:Server:MaxDimension"] = "64",
    });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
