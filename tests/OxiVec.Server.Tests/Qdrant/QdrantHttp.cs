using System.Net;
using System.Text;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

/// <summary>A server answer: status, parsed body (null when it is not JSON) and the x-oxivec-lsn header.</summary>
public sealed record Answer(HttpStatusCode Status, JsonElement Body, string Raw, long? Lsn)
{
    /// <summary>The envelope's result.</summary>
    public JsonElement Result => Body.GetProperty("result");

    /// <summary>The envelope's error message.</summary>
    public string Error => Body.GetProperty("status").GetProperty("error").GetString()!;

    /// <summary>Fails with the body when the status is not <paramref name="expected"/>.</summary>
    public Answer Expect(HttpStatusCode expected)
    {
        Assert.True(Status == expected, $"expected {(int)expected}, got {(int)Status}: {Raw}");
        return this;
    }
}

/// <summary>Raw JSON requests to the server, so tests send exactly what Qdrant clients send.</summary>
public static class QdrantHttp
{
    public static async Task<Answer> SendAsync(this HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        string raw = await response.Content.ReadAsStringAsync();
        JsonElement body = default;
        try
        {
            using JsonDocument document = JsonDocument.Parse(raw);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
        }

        long? lsn = response.Headers.TryGetValues("x-oxivec-lsn", out IEnumerable<string>? values) ? long.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) : null;
        return new Answer(response.StatusCode, body, raw, lsn);
    }

    public static Task<Answer> GetJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Get, path);

    public static Task<Answer> PostJsonAsync(this HttpClient http, string path, string json) => http.SendAsync(HttpMethod.Post, path, json);

    public static Task<Answer> PutJsonAsync(this HttpClient http, string path, string json) => http.SendAsync(HttpMethod.Put, path, json);

    public static Task<Answer> DeleteJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Delete, path);

    /// <summary>Creates <paramref name="name"/> with vectors of <paramref name="size"/> and <paramref name="distance"/>.</summary>
    public static async Task CreateAsync(this HttpClient http, string name, int size = 3, string distance = "Dot") =>
        (await http.PutJsonAsync($"/collections/{name}", $$$"""{"vectors": {"size": {{{size}}}, "distance": "{{{distance}}}"}}""")).Expect(HttpStatusCode.OK);

    /// <summary>Upserts <paramref name="pointsJson"/> (a JSON array of points) with wait=true.</summary>
    public static async Task<Answer> UpsertAsync(this HttpClient http, string name, string pointsJson) =>
        (await http.PutJsonAsync($"/collections/{name}/points?wait=true", $$"""{"points": {{pointsJson}}}""")).Expect(HttpStatusCode.OK);

    /// <summary>Every point of the collection (scrolled), as canonical JSON text per id, to compare states.</summary>
    public static async Task<SortedDictionary<string, string>> StateAsync(this HttpClient http, string name)
    {
        var state = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? offset = null;
        for (int page = 0; page < 1000; page++)
        {
            string body = offset is null
                ? """{"limit": 100, "with_payload": true, "with_vector": true}"""
                : $$"""{"limit": 100, "with_payload": true, "with_vector": true, "offset": {{offset}}}""";
            Answer answer = (await http.PostJsonAsync($"/collections/{name}/points/scroll", body)).Expect(HttpStatusCode.OK);
            foreach (JsonElement point in answer.Result.GetProperty("points").EnumerateArray())
            {
                state[point.GetProperty("id").GetRawText()] = point.GetRawText();
            }

            JsonElement next = answer.Result.GetProperty("next_page_offset");
            if (next.ValueKind == JsonValueKind.Null)
            {
                return state;
            }

            offset = next.GetRawText();
        }

        throw new InvalidOperationException("The scroll did not end within 1000 pages.");
    }
}
