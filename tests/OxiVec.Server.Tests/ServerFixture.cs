using Microsoft.AspNetCore.Builder;
using OxiVec.Hosting;
using OxiVec.Hosting.Server;

namespace OxiVec.Server.Tests;

/// <summary>
/// A real server (Kestrel on 127.0.0.1, a free port) over a database in a temporary directory, in this process, with an
/// <see cref="HttpClient"/> pointed at it. Disposing stops the server (checkpoint and close) and deletes the directory.
/// </summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServerFixture(WebApplication app, string directory, Uri address)
    {
        _app = app;
        Directory = directory;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The data directory.</summary>
    public string Directory { get; }

    /// <summary>The server's gRPC replication endpoint, or null when it has none (<c>OxiVec:Server:Grpc</c> unset).</summary>
    public Uri? GrpcAddress => OxiVecServer.GrpcAddress(_app) is { } grpc ? new Uri(grpc) : null;

    /// <summary>The server's base address.</summary>
    public Uri Address { get; }

    /// <summary>A client of the server.</summary>
    public HttpClient Client { get; }

    /// <summary>The database host.</summary>
    public OxiVecDatabaseHost Host => (OxiVecDatabaseHost)_app.Services.GetService(typeof(OxiVecDatabaseHost))!;

    /// <summary>The server's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a server over a new directory (or <paramref name="directory"/>), with extra settings, and waits until it
    /// is ready. <paramref name="configure"/> may map endpoints of the test's own before the server starts.
    /// </summary>
    public static async Task<ServerFixture> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null, string? directory = null, Action<WebApplication>? configure = null, bool waitUntilReady = true)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "oxivec-server-" + Guid.NewGuid().ToString("N"));
        var overrides = new Dictionary<string, string?>
        {
            ["OxiVec:DataDirectory"] = directory,
            ["OxiVec:Server:Http"] = "127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (KeyValuePair<string, string?> pair in settings ?? new Dictionary<string, string?>())
        {
            overrides[pair.Key] = pair.Value;
        }

        WebApplication app = OxiVecServer.Build([], null, overrides);
        configure?.Invoke(app);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var fixture = new ServerFixture(app, directory, new Uri(OxiVecServer.Addresses(app)[0]));
        if (waitUntilReady)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await fixture.Host.WhenReadyAsync(timeout.Token);
        }

        return fixture;
    }

    /// <summary>A request to <paramref name="path"/> carrying <paramref name="apiKey"/> in the <c>api-key</c> header (none when null).</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? apiKey = null, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Add("api-key", apiKey);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Sends <paramref name="request"/> and returns the status and the <c>status.error</c> of Qdrant's error envelope (null when the body is no error envelope).</summary>
    public async Task<(System.Net.HttpStatusCode Status, string? Error, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            HttpResponseMessage response = await Client.SendAsync(request);
            string body = await response.Content.ReadAsStringAsync();
            string? error = null;
            if (body.StartsWith('{'))
            {
                using var json = System.Text.Json.JsonDocument.Parse(body);
                if (json.RootElement.TryGetProperty("status", out var status) && status.ValueKind == System.Text.Json.JsonValueKind.Object
                    && status.TryGetProperty("error", out var message))
                {
                    error = message.GetString();
                }
            }

            return (response.StatusCode, error, response);
        }
    }

    /// <summary>Stops the server (checkpoint and close) without deleting the directory.</summary>
    public async Task StopAsync()
    {
        Client.Dispose();
        await StopServerAsync();
    }

    /// <summary>Stops the server (checkpoint and close), leaving <see cref="Client"/> usable for requests already in flight.</summary>
    public async Task StopServerAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (ObjectDisposedException)
        {
            // stopped already
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
