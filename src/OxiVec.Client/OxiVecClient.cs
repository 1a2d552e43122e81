using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace OxiVec.Client;

/// <summary>
/// The typed client of <c>oxivec serve</c>: collections, points, payloads, search, and OxiVec's own endpoints, over an
/// <see cref="HttpClient"/>. Thread-safe; create it through <c>services.AddOxiVecClient(...)</c> (a typed client of
/// IHttpClientFactory) or over an HttpClient of your own.
/// </summary>
/// <remarks>
/// Every refusal or failure is an <see cref="OxiVecClientException"/> naming the status, the server's message, the
/// method and the path. Idempotent calls (reads, upserts, and deletes and payload writes of listed ids) are retried on
/// transient failures (no connection, a timeout, 408, 429, 502, 503, 504) up to <see cref="OxiVecClientOptions.MaxRetries"/>
/// times with capped exponential backoff and jitter; every other call is sent once (docs/client.md gives the rule).
/// </remarks>
public sealed partial class OxiVecClient
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private readonly HttpClient _http;
    private readonly OxiVecClientOptions _options;
    private readonly Uri _base;

    /// <summary>A client over <paramref name="httpClient"/> with default options; its <c>BaseAddress</c> is the server (or the default endpoint when unset).</summary>
    public OxiVecClient(HttpClient httpClient)
        : this(httpClient, new OxiVecClientOptions())
    {
    }

    /// <summary>
    /// A client over <paramref name="httpClient"/>: the server is its <c>BaseAddress</c>, or <paramref name="options"/>'
    /// <see cref="OxiVecClientOptions.Endpoint"/> when it has none. The API key and the retry settings come from
    /// <paramref name="options"/>; the timeout of an attempt is the HttpClient's.
    /// </summary>
    public OxiVecClient(HttpClient httpClient, OxiVecClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _http = httpClient;
        _options = options;
        Uri address = httpClient.BaseAddress ?? options.Endpoint;
        _base = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
    }

    /// <summary>The server's base address.</summary>
    public Uri Endpoint => _base;

    /// <summary>
    /// Sends one call and returns the <c>result</c> of the server's envelope. <paramref name="retrySafe"/>: the call may
    /// be sent again after a transient failure. <paramref name="path"/> is relative (no leading slash).
    /// </summary>
    internal async Task<JsonElement> SendAsync(HttpMethod method, string path, Action<Utf8JsonWriter>? body, bool retrySafe, CancellationToken cancellationToken)
    {
        byte[]? content = body is null ? null : Serialize(body);
        string shownPath = "/" + path;
        for (int attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool mayRetry = retrySafe && attempt < _options.MaxRetries;
            using var request = new HttpRequestMessage(method, new Uri(_base, path));
            if (content is not null)
            {
                request.Content = new ByteArrayContent(content);
                request.Content.Headers.ContentType = JsonType;
            }

            // OxiVec's extension: vectors as stored (a Cosine collection's too), so a read returns what was written.
            request.Headers.TryAddWithoutValidation("OxiVec-Vectors", "stored");
            if (_options.ApiKey is { } key)
            {
                request.Headers.TryAddWithoutValidation("api-key", key);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
            {
                // No answer: a connection failure, or the HttpClient's timeout (a TaskCanceledException the caller did not ask for).
                if (mayRetry)
                {
                    await RetryDelay.WaitAsync(_options, attempt, null, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                string what = ex is TaskCanceledException ? $"timed out after {_http.Timeout}" : $"no answer from {_base}: {ex.Message}";
                string maybe = retrySafe ? "" : " A write may or may not have been applied.";
                throw new OxiVecClientException($"{method} {shownPath} failed: {what}.{maybe}", null, null, method.Method, shownPath, innerException: ex);
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    return await ReadResultAsync(response, method, shownPath, cancellationToken).ConfigureAwait(false);
                }

                if (mayRetry && RetryDelay.IsTransient(response.StatusCode))
                {
                    await RetryDelay.WaitAsync(_options, attempt, response.Headers.RetryAfter, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw await ErrorAsync(response, method, shownPath, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<JsonElement> ReadResultAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                using JsonDocument document = await JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
                return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("result", out JsonElement result)
                    ? result.Clone()
                    : throw new JsonException("the answer has no 'result'.");
            }
            catch (JsonException ex)
            {
                throw new OxiVecClientException(
                    $"{method} {path} answered {(int)response.StatusCode} with a body that is not the server's envelope: {ex.Message}",
                    response.StatusCode, null, method.Method, path, innerException: ex);
            }
        }
    }

    private static async Task<OxiVecClientException> ErrorAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? message = ErrorMessage(body);
        string? primary = response.Headers.TryGetValues("OxiVec-Primary", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
        string? requestId = response.Headers.TryGetValues("x-request-id", out IEnumerable<string>? ids) ? ids.FirstOrDefault() : null;
        string text = $"{method} {path} answered {(int)response.StatusCode} ({response.StatusCode}): {message ?? "(no message)"}";
        if (primary is not null)
        {
            text += $" The primary is {primary}.";
        }

        return new OxiVecClientException(text, response.StatusCode, message, method.Method, path, primary, requestId);
    }

    /// <summary>The <c>status.error</c> of Qdrant's error envelope, or the start of a body that is not one.</summary>
    private static string? ErrorMessage(string body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("status", out JsonElement status)
                && status.ValueKind == JsonValueKind.Object
                && status.TryGetProperty("error", out JsonElement error)
                && error.ValueKind == JsonValueKind.String)
            {
                return error.GetString();
            }
        }
        catch (JsonException)
        {
            // not JSON: fall through to the raw text
        }

        return body.Length <= 500 ? body : body[..500] + "...";
    }

    private static byte[] Serialize(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            body(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string Segment(string collection)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        return Uri.EscapeDataString(collection);
    }

    private static string Wait(bool wait) => wait ? "?wait=true" : "?wait=false";

    internal static void WritePoints(Utf8JsonWriter writer, IReadOnlyList<PointStruct> points)
    {
        writer.WriteStartArray("points");
        foreach (PointStruct point in points)
        {
            ArgumentNullException.ThrowIfNull(point, nameof(points));
            writer.WriteStartObject();
            writer.WritePropertyName("id");
            point.Id.Write(writer);
            WriteVector(writer, point.Vector.Span);
            if (point.Payload is not null)
            {
                writer.WritePropertyName("payload");
                point.Payload.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    internal static void WriteVector(Utf8JsonWriter writer, ReadOnlySpan<float> vector)
    {
        writer.WriteStartArray("vector");
        foreach (float f in vector)
        {
            writer.WriteNumberValue(f);
        }

        writer.WriteEndArray();
    }
}
