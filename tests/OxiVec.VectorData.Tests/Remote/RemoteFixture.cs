using Microsoft.AspNetCore.Builder;
using OxiVec.Client;
using OxiVec.Hosting;
using OxiVec.Hosting.Server;
using OxiVec.VectorData.Remote;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Remote;

/// <summary>
/// The remote back end against a real <c>oxivec serve</c> in this process (Kestrel on 127.0.0.1, a free port) over a
/// database in a fresh temporary directory; stopping the server and deleting the directory at the end.
/// </summary>
public sealed class RemoteFixture : BackendFixture, IAsyncLifetime
{
    private WebApplication? _app;
    private HttpClient? _http;
    private OxiVecRemoteBackend? _backend;

    /// <summary>The server's data directory.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "oxivec-vectordata-remote-" + Guid.NewGuid().ToString("N"));

    /// <inheritdoc/>
    public override IOxiVecBackend Backend => _backend ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>The client the back end uses.</summary>
    public OxiVecClient Client => _backend?.Client ?? throw new InvalidOperationException("The server is not started.");

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        _app = OxiVecServer.Build([], null, new Dictionary<string, string?>
        {
            ["OxiVec:DataDirectory"] = Directory,
            ["OxiVec:Server:Http"] = "127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await _app.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await ((OxiVecDatabaseHost)_app.Services.GetService(typeof(OxiVecDatabaseHost))!).WhenReadyAsync(timeout.Token);
        _http = new HttpClient { BaseAddress = new Uri(OxiVecServer.Addresses(_app)[0]), Timeout = TimeSpan.FromSeconds(30) };
        _backend = new OxiVecRemoteBackend(new OxiVecClient(_http, new OxiVecClientOptions { RetryBaseDelay = TimeSpan.Zero }));
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // DisposeAsync stops the server and deletes the directory.
    }
}
