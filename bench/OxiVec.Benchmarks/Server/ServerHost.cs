using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Hosting;
using OxiVec.Hosting.Server;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// The child process of the <c>server</c> verb (<c>server --host --data DIR --sync-interval-ms N</c>, not listed in
/// the help): <see cref="OxiVecServer"/> on 127.0.0.1 with a free port over <c>DIR</c>. Once the database has
/// recovered it prints <see cref="ListeningPrefix"/> and the URL, then serves until its standard input closes (the
/// verb closes it, and kills the process by id if it has not exited in time).
/// </summary>
internal static class ServerHost
{
    /// <summary>The flag that selects host mode as the first argument after the verb.</summary>
    public const string Flag = "--host";

    /// <summary>
    /// Set to 1 or 0 in the host's environment, Kestrel's <c>SocketTransportOptions.WaitForDataBeforeAllocatingBuffer</c>
    /// instead of the server's (false): for comparing the two (<c>server --compare</c>).
    /// </summary>
    public const string WaitForDataVariable = "OXIVEC_BENCH_WAIT_FOR_DATA";

    /// <summary>
    /// Set to 1 in the host's environment, Kestrel's <c>SocketTransportOptions.UnsafePreferInlineScheduling</c> (requests
    /// run on the socket threads): for comparing (<c>server --compare</c>); the server does not use it.
    /// </summary>
    public const string InlineSchedulingVariable = "OXIVEC_BENCH_INLINE_SCHEDULING";

    /// <summary>The line the host prints when it is ready, followed by its URL.</summary>
    public const string ListeningPrefix = "oxivec-bench server host listening on ";

    /// <summary>The URL in a line the host printed, or null when the line is something else.</summary>
    public static Uri? ParseListening(string? line) =>
        line is not null && line.StartsWith(ListeningPrefix, StringComparison.Ordinal)
        && Uri.TryCreate(line[ListeningPrefix.Length..].Trim(), UriKind.Absolute, out Uri? url)
        && url.IsLoopback
            ? url
            : null;

    public static int Run(string[] args)
    {
        string? data = null;
        int? syncIntervalMs = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--data" when i + 1 < args.Length:
                    data = args[++i];
                    break;
                case "--sync-interval-ms" when i + 1 < args.Length:
                    syncIntervalMs = int.Parse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown host argument '{args[i]}' (usage: server {Flag} --data DIR --sync-interval-ms N)");
            }
        }

        if (data is null || syncIntervalMs is null)
        {
            throw new ArgumentException($"server {Flag} needs --data DIR and --sync-interval-ms N");
        }

        return RunAsync(data, syncIntervalMs.Value).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string data, int syncIntervalMs)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OxiVec:DataDirectory"] = data,
            ["OxiVec:SyncIntervalMs"] = syncIntervalMs.ToString(CultureInfo.InvariantCulture),
            ["OxiVec:Server:Http"] = "127.0.0.1:0",
            // Request logging to the console would measure the console; a deployment logs warnings or ships logs elsewhere.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        WebApplication app = OxiVecServer.Build([], null, settings, services =>
        {
            if (Environment.GetEnvironmentVariable(WaitForDataVariable) is { } wait)
            {
                services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(s => s.WaitForDataBeforeAllocatingBuffer = wait == "1");
            }

            if (Environment.GetEnvironmentVariable(InlineSchedulingVariable) == "1")
            {
                services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(s => s.UnsafePreferInlineScheduling = true);
            }
        });
        await using (app.ConfigureAwait(false))
        {
            await app.StartAsync().ConfigureAwait(false);
            _ = await app.Services.GetRequiredService<OxiVecDatabaseHost>().WhenReadyAsync().ConfigureAwait(false);
            string url = OxiVecServer.Addresses(app).First(a => a.StartsWith("http://", StringComparison.Ordinal));
            Console.WriteLine(ListeningPrefix + url);
            Console.Out.Flush();
            await Console.OpenStandardInput().CopyToAsync(Stream.Null).ConfigureAwait(false);
            await app.StopAsync().ConfigureAwait(false);
        }

        return 0;
    }
}
