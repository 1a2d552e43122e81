using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace OxiVec.ClusterTests.History;

/// <summary>
/// Writers that upsert unique ids with known values through whichever node is primary, recording every attempt and
/// acknowledgement in a <see cref="WriteHistory"/>. A write answered 421 (naming the primary in <c>OxiVec-Primary</c>)
/// or a redirect, or refused at connect, was not executed: it is sent again, same id and value, to the node named (or
/// the next one). Any other failure (timeout, reset, 5xx) leaves it indeterminate, and the writer moves on to a new id:
/// no id is ever written with two values.
/// </summary>
public sealed class ClusterWriter : IDisposable
{
    public const string Collection = "failover";
    public const string EpochHeader = "OxiVec-Epoch";
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, string> _nodeByAuthority;
    private readonly IReadOnlyList<Uri> _nodes;
    private readonly HttpClient _http;
    private readonly Stopwatch _clock;
    private long _nextId;
    private volatile Uri _primaryGuess;

    /// <summary>Writers over the nodes <paramref name="nodes"/> (node id to REST address), timing on <paramref name="clock"/>.</summary>
    public ClusterWriter(IReadOnlyDictionary<string, Uri> nodes, WriteHistory history, Stopwatch clock)
    {
        _nodeByAuthority = nodes.ToDictionary(n => n.Value.Authority, n => n.Key);
        _nodes = [.. nodes.Values];
        _primaryGuess = _nodes[0];
        History = history;
        _clock = clock;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = RequestTimeout };
    }

    public WriteHistory History { get; }

    /// <summary>The node the writers currently send to.</summary>
    public Uri PrimaryGuess => _primaryGuess;

    /// <summary>Runs <paramref name="writers"/> writers until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(int writers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(() => WriterAsync(stop), CancellationToken.None)));

    /// <summary>Sends one write (a new id) until it is acknowledged or indeterminate; whether it was acknowledged.</summary>
    public async Task<bool> WriteOnceAsync(CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _nextId);
        string value = $"w{id}";
        TimeSpan firstSent = _clock.Elapsed;
        History.Attempted(new WriteAttempt(id, value, firstSent));
        Uri target = _primaryGuess;
        for (int attempt = 0; attempt < 20 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            TimeSpan sent = _clock.Elapsed;
            Outcome outcome = await SendAsync(target, id, value, cancellationToken);
            switch (outcome)
            {
                case Outcome.Acknowledged ack:
                    History.Acknowledged(new WriteAck(id, value, Node(target), ack.Epoch, ack.Lsn, sent, _clock.Elapsed));
                    return true;
                case Outcome.Redirected redirected:
                    target = _primaryGuess = redirected.Primary;
                    break;
                case Outcome.NotExecuted:
                    target = _primaryGuess = Next(target);
                    await Task.Delay(50, CancellationToken.None); // back off from a node that is down; not a synchronisation
                    break;
                default:
                    _primaryGuess = Next(target);
                    await Task.Delay(50, CancellationToken.None);
                    return false; // indeterminate: never sent again, possibly executed
            }
        }

        return false;
    }

    /// <summary>
    /// Sends one new write to <paramref name="node"/> only (no redirect followed), waiting up to <paramref name="timeout"/>
    /// for its answer, and records it; the status code, or null when no answer came.
    /// </summary>
    public async Task<HttpStatusCode?> SendDirectAsync(Uri node, TimeSpan timeout)
    {
        long id = Interlocked.Increment(ref _nextId);
        string value = $"w{id}";
        TimeSpan sent = _clock.Elapsed;
        History.Attempted(new WriteAttempt(id, value, sent));
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = timeout };
        try
        {
            using HttpResponseMessage response = await http.PutAsync(new Uri(node, $"/collections/{Collection}/points?wait=true"), Json(Body(id, value)));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                long lsn = long.Parse(response.Headers.GetValues("OxiVec-Lsn").Single(), CultureInfo.InvariantCulture);
                History.Acknowledged(new WriteAck(id, value, Node(node), 0, lsn, sent, _clock.Elapsed));
            }

            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Reads the values of ids 1..(last id written) from <paramref name="node"/> (id to payload value).</summary>
    public async Task<Dictionary<long, string>> ReadAllAsync(Uri node, CancellationToken cancellationToken)
    {
        long last = Interlocked.Read(ref _nextId);
        var content = new Dictionary<long, string>();
        for (long from = 1; from <= last; from += 1000)
        {
            long[] ids = [.. Enumerable.Range(0, (int)Math.Min(1000, last - from + 1)).Select(i => from + i)];
            string text = await ReadAsync(node, ids, cancellationToken);
            using JsonDocument json = JsonDocument.Parse(text);
            foreach (JsonElement point in json.RootElement.GetProperty("result").EnumerateArray())
            {
                content[point.GetProperty("id").GetInt64()] = point.GetProperty("payload").GetProperty("v").GetString()!;
            }
        }

        return content;
    }

    /// <summary>Retrieves <paramref name="ids"/> from <paramref name="node"/>, retrying (bounded) while it answers 503 (it is changing its role).</summary>
    private async Task<string> ReadAsync(Uri node, long[] ids, CancellationToken cancellationToken)
    {
        string last = "";
        for (int attempt = 0; attempt < 300 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node, $"/collections/{Collection}/points"))
            {
                Content = Json(JsonSerializer.Serialize(new { ids, with_payload = true, with_vector = false })),
            };
            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken);
            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return text;
            }

            last = $"{(int)response.StatusCode} {text}";
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                break;
            }

            await Task.Delay(100, CancellationToken.None); // a node taking over answers 503 until it is ready: polled, bounded
        }

        throw new HttpRequestException($"reading ids {ids[0]}..{ids[^1]} from {node}: {last}");
    }

    /// <summary>Creates the collection through the primary (following redirects), bounded by <paramref name="cancellationToken"/>.</summary>
    public async Task CreateCollectionAsync(CancellationToken cancellationToken)
    {
        Uri target = _primaryGuess;
        var last = new Dictionary<string, string>();
        for (int attempt = 0; attempt < 1_000 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                using HttpResponseMessage response = await _http.PutAsync(new Uri(target, $"/collections/{Collection}"), Json("""{"vectors": {"size": 4, "distance": "Euclid"}}"""), cancellationToken);
                last[Node(target)] = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}";
                // 409: an earlier attempt whose answer timed out (a sync primary waits for its standbys) created it.
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict)
                {
                    _primaryGuess = target;
                    return;
                }

                target = NamedPrimary(response) ?? Next(target);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last[Node(target)] = e.Message;
                target = Next(target);
            }

            await Task.Delay(100, CancellationToken.None); // waiting for a primary to be elected: no event a client could wait on
        }

        throw new InvalidOperationException($"no node created the collection; last answers: {string.Join("; ", last.Select(p => $"{p.Key}: {p.Value}"))}");
    }

    public void Dispose() => _http.Dispose();

    private async Task WriterAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await WriteOnceAsync(stop);
        }
    }

    private async Task<Outcome> SendAsync(Uri target, long id, string value, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _http.PutAsync(new Uri(target, $"/collections/{Collection}/points?wait=true"), Json(Body(id, value)), cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                long lsn = long.Parse(response.Headers.GetValues("OxiVec-Lsn").Single(), CultureInfo.InvariantCulture);
                long epoch = response.Headers.TryGetValues(EpochHeader, out IEnumerable<string>? values) ? long.Parse(values.Single(), CultureInfo.InvariantCulture) : 0;
                return new Outcome.Acknowledged(epoch, lsn);
            }

            if (NamedPrimary(response) is { } primary && response.StatusCode is HttpStatusCode.MisdirectedRequest or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect)
            {
                return new Outcome.Redirected(primary);
            }

            // 421 without a primary (none elected yet): not executed either.
            return response.StatusCode == HttpStatusCode.MisdirectedRequest ? new Outcome.NotExecuted() : new Outcome.Indeterminate();
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return new Outcome.NotExecuted();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return new Outcome.Indeterminate();
        }
        catch (OperationCanceledException)
        {
            return new Outcome.Indeterminate();
        }
    }

    private static Uri? NamedPrimary(HttpResponseMessage response)
    {
        string? named = response.Headers.TryGetValues("OxiVec-Primary", out IEnumerable<string>? values) ? values.FirstOrDefault()
            : response.Headers.Location?.ToString();
        return named is not null && Uri.TryCreate(named, UriKind.Absolute, out Uri? uri) ? new Uri(uri.GetLeftPart(UriPartial.Authority)) : null;
    }

    private string Node(Uri target) => _nodeByAuthority.TryGetValue(target.Authority, out string? node) ? node : target.Authority;

    private Uri Next(Uri target)
    {
        int at = _nodes.ToList().FindIndex(n => n.Authority == target.Authority);
        return _nodes[(at + 1) % _nodes.Count];
    }

    private static string Body(long id, string value) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"points\": [{{\"id\": {id}, \"vector\": [{id % 97}, {id % 7}, 1, -1], \"payload\": {{\"v\": \"{value}\"}}}}]}}");

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private abstract record Outcome
    {
        public sealed record Acknowledged(long Epoch, long Lsn) : Outcome;

        public sealed record Redirected(Uri Primary) : Outcome;

        public sealed record NotExecuted : Outcome;

        public sealed record Indeterminate : Outcome;
    }
}
