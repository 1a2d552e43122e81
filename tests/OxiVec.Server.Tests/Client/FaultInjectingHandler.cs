using System.Net;

namespace OxiVec.Server.Tests.Client;

/// <summary>
/// Sits under an HttpClient in front of the real server: counts attempts, and answers the first
/// <see cref="Faults"/> of them itself (a status, or a connection failure) instead of forwarding them.
/// </summary>
public sealed class FaultInjectingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private int _attempts;

    /// <summary>How many requests reached this handler.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>How many of the first requests get the fault; int.MaxValue: all of them.</summary>
    public int Faults { get; init; }

    /// <summary>The status a fault answers with; null: a connection failure (HttpRequestException).</summary>
    public HttpStatusCode? Status { get; init; } = HttpStatusCode.ServiceUnavailable;

    /// <summary>Headers a fault's answer carries.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        int attempt = Interlocked.Increment(ref _attempts);
        if (attempt > Faults)
        {
            return base.SendAsync(request, cancellationToken);
        }

        if (Status is not { } status)
        {
            throw new HttpRequestException("injected: connection refused", null, null);
        }

        var response = new HttpResponseMessage(status)
        {
            RequestMessage = request,
            Content = new StringContent("""{"status": {"error": "injected fault"}, "time": 0}""", System.Text.Encoding.UTF8, "application/json"),
        };
        foreach ((string name, string value) in Headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return Task.FromResult(response);
    }
}
