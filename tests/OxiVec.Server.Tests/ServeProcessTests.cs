using System.Net;
using OxiVec.Storage;

namespace OxiVec.Server.Tests;

public sealed class ServeProcessTests
{
    private static string NewDirectory() => Path.Combine(Path.GetTempPath(), "oxivec-serve-" + Guid.NewGuid().ToString("N"));

    private static string[] Checkpoints(string directory) =>
        Directory.Exists(Path.Combine(directory, "checkpoints")) ? Directory.GetDirectories(Path.Combine(directory, "checkpoints")) : [];

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Signal_StopsServe_WithExitCode0_AfterWritingACheckpoint(string signal)
    {
        string directory = NewDirectory();
        try
        {
            await using (ServeProcess serve = ServeProcess.Start("--data", directory, "--http", "127.0.0.1:0"))
            {
                Uri address = await serve.WaitUntilListeningAsync();
                using (var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) })
                {
                    Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/livez")).StatusCode);
                }

                // Stopping waits for recovery to end (it cannot be interrupted half-way), then checkpoints and closes.
                Assert.Empty(Checkpoints(directory));
                await serve.SignalAsync(signal);
                int exitCode = await serve.WaitForExitAsync();
                Assert.True(exitCode == 0, $"exit code {exitCode}\n{serve.Output}");
                Assert.Contains("written on stop", serve.Output, StringComparison.Ordinal);
            }

            Assert.Single(Checkpoints(directory));
            using VectorDatabase reopened = VectorDatabase.Open(directory);
            Assert.Equal(1, reopened.LastCheckpoint?.Sequence);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_WithABadValueInItsConfigFile_FailsToStart_NamingTheSetting()
    {
        string directory = NewDirectory();
        string config = directory + ".json";
        await File.WriteAllTextAsync(config, """{ "OxiVec": { "Server": { "RateLimitPerSecond": -1 } } }""");
        try
        {
            await using ServeProcess serve = ServeProcess.Start("--data", directory, "--http", "127.0.0.1:0", "--config", config);
            int exitCode = await serve.WaitForExitAsync();
            Assert.True(exitCode == 1, $"exit code {exitCode}\n{serve.Output}");
            Assert.Contains("OxiVec:Server:RateLimitPerSecond", serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_WithoutAKey_OnANonLoopbackAddress_FailsToStart_NamingTheOptions()
    {
        string directory = NewDirectory();
        try
        {
            await using ServeProcess serve = ServeProcess.Start("--data", directory, "--http", "192.0.2.1:0");
            int exitCode = await serve.WaitForExitAsync();
            Assert.True(exitCode == 1, $"exit code {exitCode}\n{serve.Output}");
            Assert.Contains("--allow-anonymous", serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_OnAnAddressInUse_FailsToStart_WithExitCode1_NamingTheAddress()
    {
        string directory = NewDirectory();
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        try
        {
            await using ServeProcess serve = ServeProcess.Start("--data", directory, "--http", $"127.0.0.1:{port}");
            int exitCode = await serve.WaitForExitAsync();
            Assert.True(exitCode == 1, $"exit code {exitCode}\n{serve.Output}");
            Assert.Contains("cannot listen", serve.Output, StringComparison.Ordinal);
            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            taken.Stop();
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_WithTheJsonFormatterConfigured_LogsJsonLines_AndTakesItsKeyFromOxivecApiKey()
    {
        string directory = NewDirectory();
        var environment = new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json", ["OXIVEC_API_KEY"] = "env-key" };
        try
        {
            await using (ServeProcess serve = ServeProcess.Start(environment, "--data", directory, "--http", "127.0.0.1:0"))
            {
                Uri address = await serve.WaitUntilListeningAsync();
                using (var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) })
                {
                    Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/healthz")).StatusCode);
                }

                await serve.SignalAsync("TERM");
                Assert.Equal(0, await serve.WaitForExitAsync());
                string[] logLines = serve.Output.Split('\n').Where(l => l.Contains("OxiVec.Hosting.OxiVecDatabaseHost", StringComparison.Ordinal)).ToArray();
                Assert.NotEmpty(logLines);
                Assert.All(logLines, line => Assert.StartsWith("{", line, StringComparison.Ordinal));
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
