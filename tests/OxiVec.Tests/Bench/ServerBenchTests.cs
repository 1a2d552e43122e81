using System.Text;
using System.Text.Json;
using OxiVec.Benchmarks.Server;

namespace OxiVec.Tests.Bench;

/// <summary>The pure parts of the <c>server</c> verb: request bodies, wrk's script and output, the host's ready line, answers.</summary>
public class ServerBenchTests
{
    private const string WrkOutput = """
        Running 5s test @ http://127.0.0.1:40123/
          2 threads and 8 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     1.52ms  600.00us  12.34ms   80.00%
            Req/Sec     2.61k   200.00     3.00k    70.00%
          Latency Distribution
             50%  850.50us
             75%    1.60ms
             90%    2.10ms
             99%    1.25s
          26100 requests in 5.00s, 7.10MB read
          Socket errors: connect 0, read 2, write 0, timeout 3
        Requests/sec:   5219.80
        Transfer/sec:      1.42MB
        """;

    [Fact]
    public void WrkParse_LatencyOutput_GivesRateAndPercentilesInMilliseconds()
    {
        WrkResult r = Wrk.Parse(WrkOutput);
        Assert.Equal(5219.80, r.PerSecond, 6);
        Assert.Equal(0.8505, r.P50Ms, 6);
        Assert.Equal(1250, r.P99Ms, 6);
        Assert.Equal(5, r.SocketErrors);
        Assert.Equal(26_100, r.Requests);
    }

    [Fact]
    public void ServerProcess_WithAServerBuildThatDoesNotExist_ThrowsNamingTheKey()
    {
        var environment = new Dictionary<string, string> { [ServerProcess.ServerAssemblyKey] = "/nonexistent/oxivec-bench/OxiVec.Benchmarks.dll" };
        FileNotFoundException e = Assert.Throws<FileNotFoundException>(() => ServerProcess.Start(Path.GetTempPath(), 1000, environment));
        Assert.Contains(ServerProcess.ServerAssemblyKey, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrkParse_ServerAnsweredErrors_Throws()
    {
        string output = WrkOutput.Replace("Requests/sec:", "  Non-2xx or 3xx responses: 17\nRequests/sec:", StringComparison.Ordinal);
        FormatException e = Assert.Throws<FormatException>(() => Wrk.Parse(output));
        Assert.Contains("17", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrkParse_OutputWithoutLatencyDistribution_ThrowsNamingTheFlag()
    {
        string output = string.Join('\n', WrkOutput.Split('\n').Where(l => !l.Contains('%', StringComparison.Ordinal) || l.Contains("Stdev", StringComparison.Ordinal)));
        FormatException e = Assert.Throws<FormatException>(() => Wrk.Parse(output));
        Assert.Contains("--latency", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrkScript_HoldsEveryBodyAsALongStringAndThePath()
    {
        byte[][] bodies = [QdrantBodies.Query([1f, -0.5f]), QdrantBodies.Query([0.25f, 3f])];
        string script = Wrk.Script("/collections/search/points/query", bodies);
        foreach (byte[] body in bodies)
        {
            Assert.Contains("[=[" + Encoding.UTF8.GetString(body) + "]=]", script, StringComparison.Ordinal);
        }

        Assert.Contains("\"/collections/search/points/query\"", script, StringComparison.Ordinal);
        Assert.Contains("wrk.method = \"POST\"", script, StringComparison.Ordinal);
    }

    [Fact]
    public void QueryBody_IsQdrantsQueryShape_WithTheExactFloats()
    {
        float[] vector = [0.1f, -1.0e-7f, 3.4028235e38f, 1f / 3];
        using JsonDocument doc = JsonDocument.Parse(QdrantBodies.Query(vector));
        Assert.Equal(vector, doc.RootElement.GetProperty("query").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal(QdrantBodies.Limit, doc.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal(2, doc.RootElement.EnumerateObject().Count());
    }

    [Fact]
    public void UpsertBody_IsOnePointWithIdAndVector()
    {
        using JsonDocument doc = JsonDocument.Parse(QdrantBodies.UpsertOne(18_446_744_073_709_551_615, [0.5f, 2f]));
        JsonElement point = Assert.Single(doc.RootElement.GetProperty("points").EnumerateArray());
        Assert.Equal(18_446_744_073_709_551_615UL, point.GetProperty("id").GetUInt64());
        Assert.Equal([0.5f, 2f], point.GetProperty("vector").EnumerateArray().Select(e => e.GetSingle()));
    }

    [Theory]
    [InlineData("oxivec-bench server host listening on http://127.0.0.1:40123", "http://127.0.0.1:40123/")]
    [InlineData("oxivec-bench server host listening on http://[::1]:6333/", "http://[::1]:6333/")]
    public void HostReadyLine_LoopbackUrl_IsParsed(string line, string expected)
    {
        Assert.Equal(new Uri(expected), ServerHost.ParseListening(line));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("info: Microsoft.Hosting.Lifetime[14] Now listening on: http://127.0.0.1:40123")]
    [InlineData("oxivec-bench server host listening on http://10.0.0.5:6333")]
    [InlineData("oxivec-bench server host listening on not a url")]
    public void HostReadyLine_OtherLinesOrNonLoopback_AreNotReady(string? line)
    {
        Assert.Null(ServerHost.ParseListening(line));
    }

    [Fact]
    public void QueryIds_QdrantAnswer_GivesTheIdsInOrder()
    {
        byte[] answer = Encoding.UTF8.GetBytes("""{"result":{"points":[{"id":7,"score":0.9},{"id":"c0ffee00-0000-4000-8000-000000000000","score":0.5}]},"status":"ok","time":0.001}""");
        Assert.Equal(["7", "c0ffee00-0000-4000-8000-000000000000"], HttpLoad.QueryIds(answer));
    }

    [Fact]
    public void QueryIds_ErrorAnswer_ThrowsWithTheAnswer()
    {
        byte[] answer = Encoding.UTF8.GetBytes("""{"status":{"error":"Not found: Collection `search` doesn't exist!"},"time":0.0}""");
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => HttpLoad.QueryIds(answer));
        Assert.Contains("doesn't exist", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"result":{"operation_id":3,"status":"completed"},"status":"ok","time":0.002}""", true)]
    [InlineData("""{"result":{"operation_id":3,"status":"acknowledged"},"status":"ok","time":0.002}""", false)]
    [InlineData("""{"status":{"error":"Wrong input"},"time":0.0}""", false)]
    public void IsCompletedUpdate_OnlyQdrantsCompletedStatus(string answer, bool completed)
    {
        Assert.Equal(completed, HttpLoad.IsCompletedUpdate(Encoding.UTF8.GetBytes(answer)));
    }

    [Fact]
    public void Options_RunsAndConcurrency_AreParsed_AndKeptInTheCommandLine()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "oxivec-server-options-" + Guid.NewGuid().ToString("N"));
        ServerBenchOptions o = ServerBenchOptions.Parse(["--quick", "--runs", "2", "--concurrency", "4", "--allow-dirty", "--out", outDir]);
        Assert.Equal((2, 4, true), (o.Runs, o.Concurrency, o.Common.Quick));
        Assert.EndsWith("-- server --quick --runs 2 --concurrency 4 --allow-dirty --out " + outDir, o.Common.CommandLine, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_SearchesOnly_IsOffByDefault_AndParsed()
    {
        Assert.False(ServerBenchOptions.Parse(["--quick", "--allow-dirty"]).SearchesOnly);
        ServerBenchOptions o = ServerBenchOptions.Parse(["--quick", "--searches-only", "--allow-dirty"]);
        Assert.True(o.SearchesOnly);
        Assert.EndsWith("-- server --quick --searches-only --allow-dirty", o.Common.CommandLine, StringComparison.Ordinal);
    }

    [Fact]
    public void CellResult_DividesEachProcesssCpuTimeByTheOperations()
    {
        var latencies = new OxiVec.Benchmarks.Macro.LatencyBuffer(4);
        for (int i = 0; i < 4; i++)
        {
            latencies.Add(System.Diagnostics.Stopwatch.Frequency / 1000);
        }

        CellResult r = CellResult.From([latencies], 2.0, new CpuSample(TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(6)));
        Assert.Equal((2.0, 4L), (r.PerSecond, r.Operations));
        Assert.Equal(500, r.SelfCpuUs, 6);
        Assert.Equal(1_500, r.ServerCpuUs, 6);
        Assert.Equal(2_000, r.TotalCpuUs, 6);
    }

    [Fact]
    public void CpuSample_Difference_IsPerProcess()
    {
        CpuSample d = new CpuSample(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(9)) - new CpuSample(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
        Assert.Equal(new CpuSample(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)), d);
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--concurrency", "x")]
    [InlineData("--bogus", "1")]
    public void Options_BadArgument_ThrowsWithTheUsage(string name, string value)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => ServerBenchOptions.Parse([name, value, "--allow-dirty"]));
        Assert.Contains(ServerBenchOptions.Usage, e.Message, StringComparison.Ordinal);
    }
}
