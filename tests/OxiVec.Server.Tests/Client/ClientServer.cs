using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

/// <summary>A real in-process server (<see cref="ServerFixture"/>) shared by a test class, and an <see cref="OxiVecClient"/> of it.</summary>
public sealed class ClientServer : IAsyncLifetime
{
    private ServerFixture? _server;

    /// <summary>The server.</summary>
    public ServerFixture Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>A client of the server, without retries' backoff.</summary>
    public OxiVecClient Client { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        Client = new OxiVecClient(_server.Client, new OxiVecClientOptions { RetryBaseDelay = TimeSpan.Zero });
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
