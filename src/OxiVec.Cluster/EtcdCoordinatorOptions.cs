using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OxiVec.Cluster;

/// <summary>Settings of an <see cref="EtcdCoordinator"/>, validated by <see cref="Validate"/> when the coordinator is created.</summary>
public sealed partial class EtcdCoordinatorOptions
{
    /// <summary>The etcd members' client URLs (<c>http://host:port</c>); calls go to any healthy one.</summary>
    /// <remarks>Required: at least one absolute http URL.</remarks>
    public IList<Uri> Endpoints { get; init; } = [];

    /// <summary>The cluster's name: its keys live under <c>{KeyPrefix}/{ClusterName}/</c>.</summary>
    /// <remarks>Required: letters, digits, '.', '_' and '-' only.</remarks>
    public string ClusterName { get; init; } = "";

    /// <summary>The root of every key this coordinator reads or writes.</summary>
    /// <remarks>The default is <c>/oxivec</c>. It must start with '/' and not end with one.</remarks>
    public string KeyPrefix { get; init; } = "/oxivec";

    /// <summary>The deadline of each call to etcd; a call that has no answer by then throws <see cref="CoordinatorUnavailableException"/>.</summary>
    /// <remarks>The default is 2 seconds. It must be between 50 ms and 1 minute, and should stay well below the leadership TTL.</remarks>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where the coordinator logs unreachable members and lost leases.</summary>
    /// <remarks>The default logs nothing.</remarks>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Parses a comma-separated URL list (<c>http://a:2379,http://b:2379</c>), as the <c>--etcd</c> option takes it.</summary>
    /// <exception cref="ArgumentException">An entry is not an absolute http URL; the message names it.</exception>
    public static IList<Uri> ParseEndpoints(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var endpoints = new List<Uri>();
        foreach (string entry in urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(entry, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new ArgumentException($"etcd endpoint '{entry}' is not an absolute http:// URL (e.g. http://127.0.0.1:2379).", nameof(urls));
            }

            endpoints.Add(uri);
        }

        return endpoints;
    }

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it and says why.</exception>
    public void Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException($"{nameof(Endpoints)}: at least one etcd client URL is required.", nameof(Endpoints));
        }

        foreach (Uri endpoint in Endpoints)
        {
            if (endpoint is null || !endpoint.IsAbsoluteUri || endpoint.Scheme != Uri.UriSchemeHttp || endpoint.Port <= 0)
            {
                throw new ArgumentException($"{nameof(Endpoints)}: '{endpoint}' is not an absolute http://host:port URL (TLS is not supported).", nameof(Endpoints));
            }
        }

        if (string.IsNullOrEmpty(ClusterName) || !NamePattern().IsMatch(ClusterName))
        {
            throw new ArgumentException($"{nameof(ClusterName)}: '{ClusterName}' must be non-empty and use only letters, digits, '.', '_' and '-'.", nameof(ClusterName));
        }

        if (string.IsNullOrEmpty(KeyPrefix) || KeyPrefix[0] != '/' || KeyPrefix.EndsWith('/') || KeyPrefix.Length < 2)
        {
            throw new ArgumentException($"{nameof(KeyPrefix)}: '{KeyPrefix}' must start with '/' and not end with '/'.", nameof(KeyPrefix));
        }

        if (CallTimeout < TimeSpan.FromMilliseconds(50) || CallTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"{nameof(CallTimeout)}: {CallTimeout} must be between 50 ms and 1 minute.", nameof(CallTimeout));
        }

        ArgumentNullException.ThrowIfNull(Logger, nameof(Logger));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();
}
