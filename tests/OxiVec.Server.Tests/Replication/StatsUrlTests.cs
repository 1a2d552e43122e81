using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace OxiVec.Server.Tests.Replication;

/// <summary><c>oxivec stats --url</c> (a real CLI process) against in-process servers replicating over gRPC.</summary>
public sealed class StatsUrlTests
{
    [Fact]
    public async Task StatsUrl_OnAPrimary_ShowsEachStandbysLsnsAndLag_OnTheStandby_ItsOwnPositions()
    {
        await using ServerFixture primary = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["OxiVec:Server:Grpc"] = "127.0.0.1:0",
            ["OxiVec:SyncIntervalMs"] = "0",
            ["OxiVec:Replication:SynchronousStandbys"] = "FIRST 1 (b)",
        });
        await using ServerFixture standby = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["OxiVec:Replication:StandbyOf"] = primary.GrpcAddress!.ToString(),
            ["OxiVec:Replication:NodeName"] = "b",
            ["OxiVec:SyncIntervalMs"] = "0",
        });
        await ReplicationHttpTests.WriteAsync(primary, ServerFixture.Request(HttpMethod.Put, "/collections/docs", json: """{"vectors": {"size": 3, "distance": "Dot"}}"""));
        long lsn = await ReplicationHttpTests.WriteAsync(primary, ServerFixture.Request(
            HttpMethod.Put, "/collections/docs/points", json: """{"points": [{"id": 1, "vector": [1, 0, 1]}]}"""));

        (int code, string output, string error) = await RunCliAsync("stats", "--url", primary.Address.ToString(), "--json");
        Assert.True(code == 0, $"exit {code}: {error}");
        using (JsonDocument json = JsonDocument.Parse(output))
        {
            Assert.Equal("primary", json.RootElement.GetProperty("role").GetString());
            JsonElement b = json.RootElement.GetProperty("primary").GetProperty("standbys").EnumerateArray().Single();
            Assert.Equal("b", b.GetProperty("name").GetString());
            Assert.True(b.GetProperty("flushed_lsn").GetInt64() >= lsn); // synchronous at remote flush: acknowledged means flushed there
            Assert.True(b.TryGetProperty("lag_bytes", out _) && b.TryGetProperty("lag_ms", out _));
        }

        (code, output, error) = await RunCliAsync("stats", "--url", primary.Address.ToString());
        Assert.True(code == 0, $"exit {code}: {error}");
        Assert.Contains("replication role: primary", output, StringComparison.Ordinal);
        Assert.Contains("standby b: connected, synchronous", output, StringComparison.Ordinal);
        Assert.Contains(" bytes, ", output, StringComparison.Ordinal);

        (code, output, error) = await RunCliAsync("stats", "--url", standby.Address.ToString());
        Assert.True(code == 0, $"exit {code}: {error}");
        Assert.Contains($"replication role: standby of {primary.GrpcAddress}", output, StringComparison.Ordinal);
        Assert.Contains("replication written / flushed / applied LSN:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_WithBothOrNeitherOfDataAndUrl_IsAUsageError_AndAnUnreachableUrlIsNamed()
    {
        (int code, _, string error) = await RunCliAsync("stats");
        Assert.Equal(1, code);
        Assert.Contains("either --data DIR", error, StringComparison.Ordinal);

        (code, _, error) = await RunCliAsync("stats", "--data", Path.GetTempPath(), "--url", "http://127.0.0.1:9/");
        Assert.Equal(1, code);

        (code, _, error) = await RunCliAsync("stats", "--url", "http://127.0.0.1:9/");
        Assert.Equal(2, code);
        Assert.Contains("http://127.0.0.1:9/oxivec/replication", error, StringComparison.Ordinal);
    }

    /// <summary>Runs <c>oxivec ARGS</c> (the CLI next to the tests) and returns its exit code and output; killed after a minute.</summary>
    private static async Task<(int Code, string Output, string Error)> RunCliAsync(params string[] arguments)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
            : "dotnet";
        var info = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("OXIVEC_API_KEY");
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("oxivec did not start.");
        try
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output, await error);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }
}
