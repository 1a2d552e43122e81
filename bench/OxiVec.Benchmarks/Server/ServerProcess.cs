using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// A <see cref="ServerHost"/> child process of this executable: started by <see cref="Start"/>, which returns once
/// it listens; disposing closes its standard input (a graceful stop) and kills it by process id if it has not
/// exited within <see cref="StopTimeout"/>.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The environment form of the runtime setting <c>TieredCompilationQuickJitForLoops</c>.</summary>
    public const string QuickJitForLoopsVariable = "DOTNET_TC_QuickJitForLoops";

    /// <summary>The environment form of the runtime setting <c>System.Threading.ThreadPool.HillClimbing.Disable</c>.</summary>
    public const string HillClimbingDisableVariable = "DOTNET_HillClimbing_Disable";

    /// <summary>
    /// A variant key of <c>server --compare</c>, not passed to the child: the path of another build's
    /// OxiVec.Benchmarks.dll to run the server from (<c>dotnet PATH server --host ...</c>), so that two builds of the
    /// server (before and after a change) are compared in one run against the same embedded side.
    /// </summary>
    public const string ServerAssemblyKey = "SERVER_DLL";

    /// <summary>The Prometheus name of the runtime's <c>dotnet.gc.heap.total_allocated</c> counter (its samples start with it).</summary>
    private const string AllocatedMetric = "dotnet_gc_heap_total_allocated_bytes";

    private static readonly HttpClient Scraper = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ServerProcess(Process process) => _process = process;

    /// <summary>The base URL it listens on (loopback).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>The CPU time (user + system) the child has used so far.</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>
    /// The bytes the server process has allocated so far (the runtime's <c>dotnet.gc.heap.total_allocated</c>, read from
    /// its Prometheus scrape), or null when its /metrics does not export it (a build from before the runtime meter was
    /// exported). The scrape itself allocates in the server: a few kilobytes, against hundreds of megabytes per window.
    /// </summary>
    public long? AllocatedBytes()
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Url, "/metrics"));
            using HttpResponseMessage response = Scraper.Send(request);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var reader = new StreamReader(response.Content.ReadAsStream());
            for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            {
                if (line.StartsWith(AllocatedMetric, StringComparison.Ordinal)
                    && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double bytes))
                {
                    return (long)bytes;
                }
            }

            return null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Starts a server over <paramref name="dataDirectory"/> and waits until it listens.</summary>
    /// <exception cref="InvalidOperationException">It exited or did not listen within 2 minutes (with its standard error).</exception>
    public static ServerProcess Start(string dataDirectory, int syncIntervalMs, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The clients send no key: a key in this environment would make the server answer 401 to all of them.
        _ = start.Environment.Remove("OXIVEC_API_KEY");
        // The runtime settings `oxivec serve` ships with (src/OxiVec.Cli/OxiVec.Cli.csproj): methods with loops are
        // compiled optimised at once, so a fresh server does not answer its first seconds from unoptimised code.
        start.Environment[QuickJitForLoopsVariable] = "0";
        // And its thread pool keeps its worker count (no hill climbing): see the same file.
        start.Environment[HillClimbingDisableVariable] = "1";
        string? otherBuild = null;
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            if (key == ServerAssemblyKey)
            {
                otherBuild = File.Exists(value) ? Path.GetFullPath(value) : throw new FileNotFoundException($"{ServerAssemblyKey}: no such file", value);
                continue;
            }

            start.Environment[key] = value;
        }

        string self = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        start.FileName = self;
        if (otherBuild is not null)
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(otherBuild);
        }
        else if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Run as `dotnet OxiVec.Benchmarks.dll`: the child is the same assembly under the same host.
            start.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("the entry assembly is unknown"));
        }

        foreach (string a in new[] { "server", ServerHost.Flag, "--data", dataDirectory, "--sync-interval-ms", syncIntervalMs.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {self}");
        var server = new ServerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (server._stderr)
                {
                    server._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        try
        {
            Task<Uri?> listening = Task.Run(() =>
            {
                for (string? line = process.StandardOutput.ReadLine(); line is not null; line = process.StandardOutput.ReadLine())
                {
                    if (ServerHost.ParseListening(line) is { } url)
                    {
                        return url;
                    }
                }

                return null;
            });
            server.Url = listening.Wait(StartTimeout) && listening.Result is { } url
                ? url
                : throw new InvalidOperationException($"the server process {process.Id} did not listen within {StartTimeout.TotalSeconds:0} s (exited: {process.HasExited}); stderr: {server.Stderr()}");
            // Keep draining its output so that it never blocks on a full pipe.
            _ = Task.Run(() => process.StandardOutput.ReadToEnd());
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Closes its standard input, waits for it to exit; kills it by id when it does not in time.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(StopTimeout))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit();
                }
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private string Stderr()
    {
        lock (_stderr)
        {
            string text = _stderr.ToString().ReplaceLineEndings(" ").Trim();
            return text.Length == 0 ? "(empty)" : text[..Math.Min(text.Length, 2_000)];
        }
    }
}
