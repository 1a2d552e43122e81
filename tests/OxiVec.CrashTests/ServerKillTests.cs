using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

/// <summary>
/// Durable over the wire: a real <c>oxivec serve --sync-interval-ms 0</c> process is SIGKILLed at random moments while
/// several HTTP clients stream upserts with <c>wait=true</c>; after every restart on the same directory every point
/// whose 200 answer arrived is there with its exact vector and payload, and every batch upsert whose answer did not
/// arrive is all there or not at all.
/// </summary>
public sealed class ServerKillTests(ITestOutputHelper output)
{
    /// <summary>Kills per run; <c>OXIVEC_SERVER_KILLS</c> raises it for a soak run.</summary>
    private static readonly int Kills = EnvInt("OXIVEC_SERVER_KILLS") ?? 20;

    /// <summary>The seed of everything random here (printed, and in every failure); <c>OXIVEC_CRASH_SEED</c> replays a run.</summary>
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? Random.Shared.Next();

    /// <summary>A generous bound for the server to start and recover, or for the acknowledgements a kill waits for.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Requests one writer sends per kill cycle at most (the kill comes long before).</summary>
    private const int MaxRequestsPerCycle = 5_000;

    private const int Dimension = 6;

    /// <summary>The writers: each upserts into its own collection with its own ids, one point per request or batches.</summary>
    private static readonly Writer[] Writers =
    [
        new(0, "dot", "Dot", Uuid: false, MaxBatch: 1),
        new(1, "euclid", "Euclid", Uuid: false, MaxBatch: 1),
        new(2, "cosine", "Cosine", Uuid: true, MaxBatch: 1),
        new(3, "batches", "Euclid", Uuid: false, MaxBatch: 6),
    ];

    [Fact]
    public async Task OxivecServe_SigkilledWhileClientsUpsertWithWait_EveryAcknowledgedPointSurvivesAndNoBatchIsTorn()
    {
        var random = new Random(Seed);
        using var dir = new TempDirectory();
        var ledger = new Ledger();
        int[] next = new int[Writers.Length]; // each writer's next sequence number, across cycles
        int batchesInDoubt = 0, presentAfterKill = 0, absentAfterKill = 0;
        var total = Stopwatch.StartNew();
        output.WriteLine($"seed {Seed}, {Kills} kills, data {dir.Path}");
        ServerProcess server = await ServerProcess.StartAsync(dir.Path, Patience, "--sync-interval-ms", "0");
        try
        {
            await CreateCollectionsAsync(server.Address);
            for (int kill = 1; kill <= Kills; kill++)
            {
                int killAfter = random.Next(1, 40);
                string context = $"seed {Seed}, kill {kill} of {Kills} (after {killAfter} acknowledgements)";
                var cycle = new Cycle(killAfter);
                var clients = Writers.Select(_ => new HttpClient { BaseAddress = server.Address, Timeout = Patience }).ToArray();
                try
                {
                    Task[] writers = [.. Writers.Select(w => Task.Run(() => WriteAsync(w, clients[w.Index], next, new Random(random.Next()), cycle, context)))];
                    // A writer ends before the kill only by failing; the others are then stopped by the kill as well.
                    Task reached = await Task.WhenAny(cycle.KillNow.Task, Task.WhenAny(writers), Task.Delay(Patience));
                    cycle.Killing = true;
                    await server.KillAsync();
                    await Task.WhenAll(writers);
                    Assert.True(reached == cycle.KillNow.Task, $"{context}: the writers had {cycle.Acks} acknowledgements within {Patience.TotalSeconds} s.");
                }
                finally
                {
                    foreach (HttpClient client in clients)
                    {
                        client.Dispose();
                    }
                }

                await server.DisposeAsync();
                TimeSpan killed = total.Elapsed;
                server = await ServerProcess.StartAsync(dir.Path, Patience, "--sync-interval-ms", "0");
                TimeSpan restarted = total.Elapsed;
                using var http = new HttpClient { BaseAddress = server.Address, Timeout = Patience };
                ledger.Acknowledge(cycle.Acknowledged);
                List<Sent[]> inDoubt = cycle.InDoubt;
                HashSet<Sent> found = await FindAsync(http, [.. inDoubt.SelectMany(p => p)], context);
                foreach (Sent[] request in inDoubt)
                {
                    int there = request.Count(found.Contains);
                    Assert.True(there == 0 || there == request.Length,
                        $"{context}: an unacknowledged batch is torn: {there} of its {request.Length} points are there (batch {request[0].Batch}).");
                    batchesInDoubt += request.Length > 1 ? 1 : 0;
                    (there > 0 ? ref presentAfterKill : ref absentAfterKill) += request.Length;
                    ledger.Settle(request, there > 0);
                }

                await ledger.VerifyAsync(http, context);
                output.WriteLine($"kill {kill}: {cycle.Acks} requests ({cycle.Acknowledged.Count} points) acknowledged, {inDoubt.Count} requests in doubt; {ledger.Durable} points durable; restart {(restarted - killed).TotalSeconds:F1} s, verification {(total.Elapsed - restarted).TotalSeconds:F1} s, {total.Elapsed.TotalSeconds:F1} s in all");
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        output.WriteLine($"{Kills} kills in {total.Elapsed.TotalSeconds:F1} s: {ledger.Durable} points acknowledged or recovered, all found; "
            + $"of the points in flight at a kill {presentAfterKill} were there and {absentAfterKill} not ({batchesInDoubt} batches in doubt, none torn)");
    }

    /// <summary>One writer's loop for a cycle: upserts with <c>wait=true</c> until the server is killed.</summary>
    private static async Task WriteAsync(Writer writer, HttpClient http, int[] next, Random random, Cycle cycle, string context)
    {
        var url = new Uri($"/collections/{writer.Collection}/points?wait=true", UriKind.Relative);
        // The writer goes on until the kill fails its request: requests are in flight when the kill lands.
        for (int request = 0; request < MaxRequestsPerCycle; request++)
        {
            int size = writer.MaxBatch == 1 ? 1 : random.Next(2, writer.MaxBatch + 1);
            int first = next[writer.Index];
            next[writer.Index] += size;
            Sent[] points = [.. Enumerable.Range(first, size).Select(n => Sent.Create(writer, n, batch: size > 1 ? first : -1))];
            using var content = new ByteArrayContent(UpsertBody(points));
            content.Headers.ContentType = new("application/json");
            HttpResponseMessage response;
            try
            {
                response = await http.PutAsync(url, content);
            }
            catch (Exception e) when (cycle.Killing && e is HttpRequestException or IOException or TaskCanceledException)
            {
                cycle.Unanswered(points);
                return;
            }

            using (response)
            {
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Assert.False(cycle.Killing, "unreachable: a killed server answers nothing");
                    Assert.Fail($"{context}: upsert of {points[0].Key} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }

                // The 200 status line is the acknowledgement: the server sends it once the WAL policy has acknowledged the commit.
                cycle.Answered(points);
            }
        }

        Assert.Fail($"{context}: writer {writer.Index} sent {MaxRequestsPerCycle} requests and the server still answered.");
    }

    /// <summary>
    /// Retrieves <paramref name="points"/> (<c>POST /collections/{name}/points</c> with their ids, a few hundred at a
    /// time) and returns those that are there; every one that is there must have the exact vector and payload sent.
    /// </summary>
    private static async Task<HashSet<Sent>> FindAsync(HttpClient http, IReadOnlyCollection<Sent> points, string context)
    {
        var found = new HashSet<Sent>();
        foreach (Sent[] chunk in points.GroupBy(p => p.Collection).SelectMany(c => c.Chunk(500)))
        {
            string collection = chunk[0].Collection;
            string ids = string.Join(',', chunk.Select(p => p.IdJson));
            using var content = new StringContent($$"""{"ids":[{{ids}}],"with_payload":true,"with_vector":true}""", Encoding.UTF8, "application/json");
            using HttpResponseMessage response = await http.PostAsync(new Uri($"/collections/{collection}/points", UriKind.Relative), content);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{context}: retrieving {chunk.Length} points of {collection} answered {(int)response.StatusCode}: {body}");
            using JsonDocument answer = JsonDocument.Parse(body);
            var records = answer.RootElement.GetProperty("result").EnumerateArray()
                .ToDictionary(r => r.GetProperty("id") is { ValueKind: JsonValueKind.String } id ? id.GetString()! : r.GetProperty("id").GetRawText());
            foreach (Sent point in chunk)
            {
                if (records.TryGetValue(point.Key, out JsonElement record))
                {
                    AssertExact(point, record, context);
                    found.Add(point);
                }
            }
        }

        return found;
    }

    private static void AssertExact(Sent point, JsonElement record, string context)
    {
        using JsonDocument payload = JsonDocument.Parse(point.Payload);
        Assert.True(JsonElement.DeepEquals(payload.RootElement, record.GetProperty("payload")),
            $"{context}: point {point.Key} of {point.Collection} has payload {record.GetProperty("payload")}; {point.Payload} was sent.");
        float[] vector = [.. record.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle())];
        // Exactly as sent; for Cosine the vector as sent or (as Qdrant answers) scaled to unit length.
        bool exact = vector.AsSpan().SequenceEqual(point.Vector);
        bool normalised = point.Metric == "Cosine" && vector.Length == point.Vector.Length
            && vector.Zip(Normalised(point.Vector)).All(p => Math.Abs(p.First - p.Second) <= 1e-6f);
        Assert.True(exact || normalised,
            $"{context}: point {point.Key} of {point.Collection} has vector [{string.Join(", ", vector)}]; [{string.Join(", ", point.Vector)}] was sent.");
    }

    private static async Task CreateCollectionsAsync(Uri address)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = Patience };
        foreach (Writer writer in Writers)
        {
            using var content = new StringContent($$$"""{"vectors":{"size":{{{Dimension}}},"distance":"{{{writer.Metric}}}"}}""", Encoding.UTF8, "application/json");
            using HttpResponseMessage response = await http.PutAsync(new Uri($"/collections/{writer.Collection}", UriKind.Relative), content);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"seed {Seed}: creating {writer.Collection} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static byte[] UpsertBody(Sent[] points)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("points");
            foreach (Sent point in points)
            {
                json.WriteStartObject();
                json.WritePropertyName("id");
                json.WriteRawValue(point.IdJson);
                json.WriteStartArray("vector");
                foreach (float f in point.Vector)
                {
                    json.WriteNumberValue(f);
                }

                json.WriteEndArray();
                json.WritePropertyName("payload");
                json.WriteRawValue(point.Payload);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static float[] Normalised(float[] vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        return [.. vector.Select(v => (float)(v / norm))];
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;

    private sealed record Writer(int Index, string Collection, string Metric, bool Uuid, int MaxBatch);

    /// <summary>A point as sent: a deterministic vector (small multiples of 1/256, exact in binary) and payload from its sequence number.</summary>
    private sealed record Sent(string Collection, string Metric, string Key, string IdJson, float[] Vector, string Payload, int Batch)
    {
        public static Sent Create(Writer writer, int n, int batch)
        {
            string key;
            string idJson;
            if (writer.Uuid)
            {
                byte[] bytes = new byte[16];
                new Random(n).NextBytes(bytes);
                BitConverter.TryWriteBytes(bytes, n); // distinct for distinct n
                key = new Guid(bytes).ToString();
                idJson = $"\"{key}\"";
            }
            else
            {
                key = ((ulong)writer.Index * 1_000_000_000UL + (ulong)n).ToString(CultureInfo.InvariantCulture);
                idJson = key;
            }

            var vectorRandom = new Random((writer.Index * 7919) + n);
            float[] vector = [.. Enumerable.Range(0, Dimension).Select(_ => vectorRandom.Next(-32_768, 32_768) / 256f)];
            vector[0] = vector[0] == 0 ? 1 : vector[0]; // never the zero vector (Cosine)
            string payload = string.Create(CultureInfo.InvariantCulture,
                $$"""{"writer":{{writer.Index}},"n":{{n}},"tag":"w{{writer.Index}}-{{n}}","even":{{(n % 2 == 0 ? "true" : "false")}},"quarter":{{n * 0.25 + 0.125}},"batch":{{batch}},"labels":["a{{n % 3}}","b"]}""");
            return new Sent(writer.Collection, writer.Metric, key, idJson, vector, payload, batch);
        }
    }

    /// <summary>One kill cycle: the requests answered 200, the requests the kill left unanswered, and when to kill.</summary>
    private sealed class Cycle(int killAfter)
    {
        private readonly Lock _sync = new();
        private readonly List<Sent> _acknowledged = [];
        private readonly List<Sent[]> _inDoubt = [];
        private int _acks;
        private volatile bool _killing;

        public TaskCompletionSource KillNow { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set just before the kill: from then on a failed request is in doubt, not an error.</summary>
        public bool Killing { get => _killing; set => _killing = value; }

        public int Acks => Volatile.Read(ref _acks);

        public List<Sent> Acknowledged
        {
            get
            {
                lock (_sync)
                {
                    return [.. _acknowledged];
                }
            }
        }

        public List<Sent[]> InDoubt
        {
            get
            {
                lock (_sync)
                {
                    return [.. _inDoubt];
                }
            }
        }

        public void Answered(Sent[] points)
        {
            lock (_sync)
            {
                _acknowledged.AddRange(points);
                if (++_acks == killAfter)
                {
                    KillNow.TrySetResult();
                }
            }
        }

        public void Unanswered(Sent[] points)
        {
            lock (_sync)
            {
                _inDoubt.Add(points);
            }
        }
    }

    /// <summary>
    /// Every point that must be there (acknowledged, or found after a kill: recovered, so it stays) and every point that
    /// must not (in flight at a kill and not found after it: never sent again, so it stays away).
    /// </summary>
    private sealed class Ledger
    {
        private readonly List<Sent> _durable = [];
        private readonly List<Sent> _absent = [];

        public int Durable => _durable.Count;

        public void Acknowledge(IEnumerable<Sent> points) => _durable.AddRange(points);

        public void Settle(IEnumerable<Sent> points, bool present) => (present ? _durable : _absent).AddRange(points);

        public async Task VerifyAsync(HttpClient http, string context)
        {
            HashSet<Sent> found = await FindAsync(http, [.. _durable, .. _absent], context);
            Sent? missing = _durable.FirstOrDefault(p => !found.Contains(p));
            Assert.True(missing is null, $"{context}: point {missing?.Key} of {missing?.Collection} is missing after the restart ({_durable.Count(p => !found.Contains(p))} of {_durable.Count} are).");
            Sent? back = _absent.FirstOrDefault(found.Contains);
            Assert.True(back is null, $"{context}: point {back?.Key} of {back?.Collection}, absent after an earlier kill, is there now.");
        }
    }
}
