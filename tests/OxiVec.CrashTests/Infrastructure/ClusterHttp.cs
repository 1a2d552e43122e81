using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>The REST calls the replication tests make to primaries and standbys (Qdrant's API plus OxiVec's headers).</summary>
public static class ClusterHttp
{
    public const string Collection = "repl";

    public static HttpClient Client(Uri address) => new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };

    public static async Task CreateCollectionAsync(HttpClient http)
    {
        using HttpResponseMessage response = await http.PutAsync(new Uri($"/collections/{Collection}", UriKind.Relative), Json("""{"vectors": {"size": 4, "distance": "Euclid"}}"""));
        await EnsureOkAsync(response, "create the collection");
    }

    /// <summary>Upserts point <paramref name="id"/>; its commit LSN (OxiVec-Lsn).</summary>
    public static async Task<long> UpsertAsync(HttpClient http, long id, CancellationToken cancellationToken)
    {
        string body = string.Create(CultureInfo.InvariantCulture, $"{{\"points\": [{{\"id\": {id}, \"vector\": [{id}, {id % 7}, 1, -1], \"payload\": {{\"n\": {id}}}}}]}}");
        using HttpResponseMessage response = await http.PutAsync(new Uri($"/collections/{Collection}/points?wait=true", UriKind.Relative), Json(body), cancellationToken);
        await EnsureOkAsync(response, $"upsert {id}");
        return long.Parse(response.Headers.GetValues("OxiVec-Lsn").Single(), CultureInfo.InvariantCulture);
    }

    /// <summary>The ids among <paramref name="ids"/> the node has, read once it has applied <paramref name="minLsn"/> (waiting up to a minute).</summary>
    public static async Task<HashSet<long>> PresentAsync(HttpClient http, IReadOnlyCollection<long> ids, long minLsn)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/collections/{Collection}/points", UriKind.Relative))
        {
            Content = Json(JsonSerializer.Serialize(new { ids, with_payload = false, with_vector = false })),
        };
        request.Headers.Add("OxiVec-Min-Lsn", minLsn.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("OxiVec-Min-Lsn-Timeout-Ms", "30000");
        using HttpResponseMessage response = await http.SendAsync(request);
        string text = await EnsureOkAsync(response, $"retrieve {ids.Count} ids at LSN >= {minLsn}");
        using JsonDocument json = JsonDocument.Parse(text);
        return [.. json.RootElement.GetProperty("result").EnumerateArray().Select(p => p.GetProperty("id").GetInt64())];
    }

    /// <summary>Every point with vector and payload, in id order, as canonical JSON lines, read once the node applied <paramref name="minLsn"/>.</summary>
    public static async Task<List<string>> ExportAsync(HttpClient http, long minLsn)
    {
        var lines = new List<string>();
        JsonElement? offset = null;
        for (int page = 0; page < 10_000; page++)
        {
            string body = JsonSerializer.Serialize(new Dictionary<string, object?> { ["limit"] = 1000, ["with_payload"] = true, ["with_vector"] = true, ["offset"] = offset });
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/collections/{Collection}/points/scroll", UriKind.Relative)) { Content = Json(body) };
            request.Headers.Add("OxiVec-Min-Lsn", minLsn.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("OxiVec-Min-Lsn-Timeout-Ms", "30000");
            using HttpResponseMessage response = await http.SendAsync(request);
            using JsonDocument json = JsonDocument.Parse(await EnsureOkAsync(response, "scroll"));
            JsonElement result = json.RootElement.GetProperty("result");
            lines.AddRange(result.GetProperty("points").EnumerateArray().Select(p => p.GetRawText()));
            if (result.GetProperty("next_page_offset").ValueKind == JsonValueKind.Null)
            {
                return lines;
            }

            offset = result.GetProperty("next_page_offset").Clone();
        }

        throw new InvalidOperationException("scroll did not end");
    }

    /// <summary><c>GET /oxivec/replication</c>'s result.</summary>
    public static async Task<JsonElement> ReplicationAsync(HttpClient http)
    {
        using HttpResponseMessage response = await http.GetAsync(new Uri("/oxivec/replication", UriKind.Relative));
        using JsonDocument json = JsonDocument.Parse(await EnsureOkAsync(response, "replication status"));
        return json.RootElement.GetProperty("result").Clone();
    }

    public static async Task CheckpointAsync(HttpClient http)
    {
        using HttpResponseMessage response = await http.PostAsync(new Uri("/oxivec/checkpoint", UriKind.Relative), null);
        await EnsureOkAsync(response, "checkpoint");
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task<string> EnsureOkAsync(HttpResponseMessage response, string what)
    {
        string text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK ? text : throw new HttpRequestException($"{what}: {(int)response.StatusCode} {text}", null, response.StatusCode);
    }
}
