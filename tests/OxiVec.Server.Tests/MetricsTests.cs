using System.Diagnostics.Metrics;
using System.Net;
using OxiVec.Storage;

namespace OxiVec.Server.Tests;

public sealed class MetricsTests
{
    /// <summary>A server that fsyncs every commit (so the sync histograms have samples) after a few writes through the engine.</summary>
    internal static async Task<ServerFixture> StartWithWritesAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["OxiVec:SyncIntervalMs"] = "0" };
        foreach (var pair in settings ?? new Dictionary<string, string?>())
        {
            all[pair.Key] = pair.Value;
        }

        ServerFixture server = await ServerFixture.StartAsync(all);
        server.Host.Database.CreateCollection("docs", new CollectionOptions(3));
        for (int i = 0; i < 5; i++)
        {
            server.Host.Database.Upsert("docs", $"p{i}", new float[] { 1, i, 2 });
        }

        server.Host.Database.Search("docs", new float[] { 1, 1, 1 }, 2);
        return server;
    }

    [Fact]
    public async Task Scrape_AfterWrites_HasTheWalStoreHostingAndAspNetCoreMetrics_InPrometheusFormat()
    {
        await using ServerFixture server = await StartWithWritesAsync();
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/livez")).StatusCode); // an ASP.NET Core request to count
        using HttpResponseMessage response = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        string scrape = await response.Content.ReadAsStringAsync();
        foreach (string name in new[]
        {
            "oxivec_wal_records_total", "oxivec_wal_bytes_written_bytes_total", "oxivec_wal_syncs_total",
            "oxivec_wal_sync_duration_milliseconds_count", "oxivec_wal_commit_duration_milliseconds_bucket",
            "oxivec_store_writes_total", "oxivec_store_searches_total",
            "oxivec_wal_size_bytes", "oxivec_wal_max_size_bytes", "oxivec_wal_checkpoint_age_seconds", "oxivec_wal_failed", "oxivec_database_ready",
            "http_server_request_duration_seconds_count",
        })
        {
            Assert.True(AlertRulesTests.Exports(scrape, name), $"/metrics has no {name}:\n{scrape}");
        }

        Assert.Contains("oxivec_wal_records_total{", scrape, StringComparison.Ordinal);
        Assert.Contains("oxivec_database_ready{otel_scope_name=\"OxiVec.Hosting\"", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_HasTheRuntimesMeter_WithBytesAllocatedGrowing()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        long first = await AllocatedAsync(server);
        Assert.True(first > 0, "the runtime has allocated nothing");
        string scrape = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("otel_scope_name=\"System.Runtime\"", scrape, StringComparison.Ordinal);
        foreach (string name in new[] { "dotnet_gc_collections_total", "dotnet_gc_heap_total_allocated_bytes_total", "dotnet_process_cpu_time_seconds_total", "dotnet_thread_pool_queue_length_total" })
        {
            Assert.True(AlertRulesTests.Exports(scrape, name), $"/metrics has no {name}:\n{scrape}");
        }

        Assert.True(await AllocatedAsync(server) > first, "the scrape in between allocated, so the counter must have grown");
    }

    private static async Task<long> AllocatedAsync(ServerFixture server)
    {
        string scrape = await server.Client.GetStringAsync("/metrics");
        string line = scrape.Split('\n').Single(l => l.StartsWith("dotnet_gc_heap_total_allocated_bytes", StringComparison.Ordinal));
        return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task DatabaseMeters_AreCreatedThroughTheHostsMeterFactory()
    {
        await using ServerFixture server = await StartWithWritesAsync();
        var factory = (IMeterFactory)server.Services.GetService(typeof(IMeterFactory))!;
        var found = new HashSet<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    lock (found)
                    {
                        found.Add(instrument.Meter.Name);
                    }
                }
            },
        };
        listener.Start(); // publishes the instruments that exist already

        Assert.Contains("OxiVec.Wal", found);
        Assert.Contains("OxiVec.Store", found);
        Assert.Contains("OxiVec.Hosting", found);
    }

    [Fact]
    public async Task Metrics_NeedAKey_WhenKeysAreSet()
    {
        await using ServerFixture server = await StartWithWritesAsync(new Dictionary<string, string?> { ["OxiVec:Server:ApiKey"] = "k" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/metrics"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/metrics", "k"))).Status);
    }

    [Fact]
    public async Task EveryAnswer_CarriesItsRequestId()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        using HttpResponseMessage first = await server.Client.GetAsync("/livez");
        using HttpResponseMessage second = await server.Client.GetAsync("/livez");
        string a = first.Headers.GetValues("x-request-id").Single(), b = second.Headers.GetValues("x-request-id").Single();
        Assert.False(string.IsNullOrEmpty(a));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Answers_DoNotNameTheWebServer()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        using HttpResponseMessage probe = await server.Client.GetAsync("/livez");
        using HttpResponseMessage missing = await server.Client.GetAsync("/collections/none");
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(probe.Headers.Server);
        Assert.Empty(missing.Headers.Server);
    }
}
