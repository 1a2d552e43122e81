using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// The C# HTTP client of the benchmark: one <see cref="HttpClient"/> over a <see cref="SocketsHttpHandler"/> (HTTP/1.1,
/// keep-alive, one pooled connection per concurrent client, no proxy), sending pre-serialised bodies. Any answer but
/// 2xx fails the run with the server's error body: a benchmark of errors measures nothing.
/// </summary>
internal sealed class HttpLoad : IDisposable
{
    /// <summary>Answers of a known length up to this size are read straight into their array.</summary>
    private const int MaxKnownLength = 16 << 20;

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient _client;
    private readonly Uri _baseUrl;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    public HttpLoad(Uri baseUrl, int connections)
    {
        _baseUrl = baseUrl;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _client = new HttpClient(handler)
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromSeconds(60),
            // What the server speaks on a plain-text port: HTTP/1.1, never an upgrade attempt or a downgrade decision.
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>Sends <paramref name="body"/> as JSON and returns the answer's body.</summary>
    /// <remarks>
    /// The answer is read as soon as its headers are in, straight into an array of its <c>Content-Length</c>
    /// (HttpClient's default completion would first buffer it whole, then copy it out). The content type is one
    /// header value parsed once and shared by every request (it is never changed).
    /// </remarks>
    /// <exception cref="HttpRequestException">The server answered other than 2xx (the message holds its answer).</exception>
    public async ValueTask<byte[]> SendAsync(HttpMethod method, string path, byte[] body, CancellationToken cancellationToken = default)
    {
        using HttpRequestMessage request = Request(method, path, body);
        using HttpResponseMessage response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        byte[] answer = await ReadAnswerAsync(response.Content, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode
            ? answer
            : throw new HttpRequestException($"{method} {path} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer, 0, Math.Min(answer.Length, 500))}");
    }

    /// <summary>
    /// Sends a query and reads its whole answer into a pooled buffer (returned before this returns): the number of
    /// points it holds (<see cref="CountHits"/>). What the load loop sends: a client that reads every byte of every
    /// answer and checks it, without an array per answer.
    /// </summary>
    /// <exception cref="HttpRequestException">The server answered other than 2xx (the message holds its answer).</exception>
    public async ValueTask<int> QueryHitsAsync(string path, byte[] body, CancellationToken cancellationToken = default)
    {
        using HttpRequestMessage request = Request(HttpMethod.Post, path, body);
        using HttpResponseMessage response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength is not long length || length > MaxKnownLength)
        {
            byte[] answer = await ReadAnswerAsync(response.Content, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? CountHits(answer)
                : throw new HttpRequestException($"POST {path} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer, 0, Math.Min(answer.Length, 500))}");
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
            }

            int hits = CountHits(buffer.AsSpan(0, (int)length));
            return hits == QdrantBodies.Limit
                ? hits
                : throw new InvalidDataException($"a search answered {hits} hits, not {QdrantBodies.Limit}: {Encoding.UTF8.GetString(buffer, 0, Math.Min((int)length, 500))}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A request to <paramref name="path"/>'s absolute URI, built once per path (a relative path would be parsed and
    /// combined with the base address into two new URIs for every request), HTTP/1.1 exactly, with the shared content type.
    /// </summary>
    private HttpRequestMessage Request(HttpMethod method, string path, byte[] body)
    {
        var request = new HttpRequestMessage(method, _uris.GetOrAdd(path, static (p, baseUrl) => new Uri(baseUrl, p), _baseUrl))
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = JsonContentType;
        return request;
    }

    private static async ValueTask<byte[]> ReadAnswerAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is not long length || length > MaxKnownLength)
        {
            return await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }

        byte[] answer = new byte[length];
        Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.ReadExactlyAsync(answer, cancellationToken).ConfigureAwait(false);
        }

        return answer;
    }

    /// <summary>
    /// How many points a query answer holds, counted without parsing it (its <c>"score":</c> fields; the vectors of
    /// these answers are numbers only, and no payload is asked for): what the load loop checks of each answer, so the
    /// driver, which shares the cores with the server, spends little on it. <see cref="QueryIds"/> checks the whole answer.
    /// </summary>
    public static int CountHits(ReadOnlySpan<byte> answer)
    {
        int hits = 0;
        for (int at = answer.IndexOf("\"score\":"u8); at >= 0; at = answer.IndexOf("\"score\":"u8))
        {
            hits++;
            answer = answer[(at + 8)..];
        }

        return hits;
    }

    /// <summary>The ids of a query answer's <c>result.points</c>, as text (Qdrant's envelope, checked).</summary>
    /// <exception cref="InvalidDataException">The answer is not Qdrant's <c>{"result": {"points": [...]}, "status": "ok"}</c>.</exception>
    public static IReadOnlyList<string> QueryIds(byte[] answer)
    {
        using JsonDocument doc = JsonDocument.Parse(answer);
        if (!doc.RootElement.TryGetProperty("status", out JsonElement status) || status.ValueKind != JsonValueKind.String || status.GetString() != "ok"
            || !doc.RootElement.TryGetProperty("result", out JsonElement result) || !result.TryGetProperty("points", out JsonElement points)
            || points.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"not a Qdrant query answer: {Encoding.UTF8.GetString(answer, 0, Math.Min(answer.Length, 500))}");
        }

        return [.. points.EnumerateArray().Select(p => p.GetProperty("id").ToString())];
    }

    /// <summary>Whether an upsert answer is Qdrant's <c>{"result": {"status": "completed"}, "status": "ok"}</c>.</summary>
    public static bool IsCompletedUpdate(byte[] answer)
    {
        using JsonDocument doc = JsonDocument.Parse(answer);
        return doc.RootElement.TryGetProperty("status", out JsonElement status) && status.ValueKind == JsonValueKind.String && status.GetString() == "ok"
            && doc.RootElement.TryGetProperty("result", out JsonElement result) && result.ValueKind == JsonValueKind.Object
            && result.TryGetProperty("status", out JsonElement state) && state.ValueKind == JsonValueKind.String && state.GetString() == "completed";
    }

    public void Dispose() => _client.Dispose();
}
