using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace OxiVec.Client;

/// <summary>
/// Settings of an <see cref="OxiVecClient"/>, from the <c>OxiVec:Client</c> configuration section
/// (<see cref="SectionName"/>) or set in code. Each setter validates its value.
/// </summary>
public sealed class OxiVecClientOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "OxiVec:Client";

    private Uri _endpoint = new("http://127.0.0.1:6333/");
    private TimeSpan _timeout = TimeSpan.FromSeconds(30);
    private int _maxRetries = 3;
    private TimeSpan _retryBaseDelay = TimeSpan.FromMilliseconds(200);
    private TimeSpan _retryMaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>The server's base address, an absolute http or https URI. The default is <c>http://127.0.0.1:6333/</c>.</summary>
    public Uri Endpoint
    {
        get => _endpoint;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (!value.IsAbsoluteUri || (value.Scheme != Uri.UriSchemeHttp && value.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"OxiVec:Client:Endpoint must be an absolute http or https URI; it is '{value}'.", nameof(value));
            }

            _endpoint = value.AbsoluteUri.EndsWith('/') ? value : new Uri(value.AbsoluteUri + "/");
        }
    }

    /// <summary>The API key sent in the <c>api-key</c> header of every request; null sends none. The default is null.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The time one attempt may take (the HttpClient's timeout when the client comes from <c>AddOxiVecClient</c>). The default is 30 s.</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        set => _timeout = value > TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "OxiVec:Client:Timeout must be positive (or infinite).");
    }

    /// <summary>
    /// How many times an idempotent call is retried after a transient failure (so at most <c>MaxRetries + 1</c>
    /// attempts); 0 disables retries. Non-idempotent calls are never retried. The default is 3.
    /// </summary>
    public int MaxRetries
    {
        get => _maxRetries;
        set => _maxRetries = value is >= 0 and <= 10 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "OxiVec:Client:MaxRetries must be between 0 and 10.");
    }

    /// <summary>The backoff before the first retry; each further retry doubles it, up to <see cref="RetryMaxDelay"/>, with jitter. The default is 200 ms.</summary>
    public TimeSpan RetryBaseDelay
    {
        get => _retryBaseDelay;
        set => _retryBaseDelay = value >= TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "OxiVec:Client:RetryBaseDelay must not be negative.");
    }

    /// <summary>The cap of a backoff (a server's <c>Retry-After</c> included). The default is 5 s.</summary>
    public TimeSpan RetryMaxDelay
    {
        get => _retryMaxDelay;
        set => _retryMaxDelay = value >= TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "OxiVec:Client:RetryMaxDelay must not be negative.");
    }

    /// <summary>
    /// Reads the settings present in <paramref name="section"/> (<c>Endpoint</c>, <c>ApiKey</c>, <c>Timeout</c>
    /// as a TimeSpan such as <c>00:00:30</c>, <c>MaxRetries</c>, <c>RetryBaseDelay</c>, <c>RetryMaxDelay</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A value does not parse or is out of range; the message names the setting.</exception>
    public void Bind(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section[nameof(Endpoint)] is { } endpoint)
        {
            Endpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) ? uri
                : throw new ArgumentException($"OxiVec:Client:Endpoint must be an absolute http or https URI; it is '{endpoint}'.", nameof(section));
        }

        if (section[nameof(ApiKey)] is { } apiKey)
        {
            ApiKey = apiKey.Length == 0 ? null : apiKey;
        }

        if (section[nameof(Timeout)] is { } timeout)
        {
            Timeout = Time(timeout, nameof(Timeout));
        }

        if (section[nameof(MaxRetries)] is { } retries)
        {
            MaxRetries = int.TryParse(retries, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
                : throw new ArgumentException($"OxiVec:Client:MaxRetries must be an integer; it is '{retries}'.", nameof(section));
        }

        if (section[nameof(RetryBaseDelay)] is { } baseDelay)
        {
            RetryBaseDelay = Time(baseDelay, nameof(RetryBaseDelay));
        }

        if (section[nameof(RetryMaxDelay)] is { } maxDelay)
        {
            RetryMaxDelay = Time(maxDelay, nameof(RetryMaxDelay));
        }
    }

    private static TimeSpan Time(string text, string name) =>
        TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan value) ? value
            : throw new ArgumentException($"OxiVec:Client:{name} must be a time span such as 00:00:30; it is '{text}'.", name);
}
