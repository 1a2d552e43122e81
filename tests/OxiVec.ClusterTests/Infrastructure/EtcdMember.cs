using System.Diagnostics;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>One etcd process of an <see cref="EtcdCluster"/>: its name, ports, data directory, and its last output lines.</summary>
public sealed class EtcdMember
{
    private const int KeptLines = 60;
    private readonly Queue<string> _lines = new();
    private Process? _process;

    internal EtcdMember(string name, int clientPort, int peerPort, string dataDirectory)
    {
        Name = name;
        ClientUrl = new Uri($"http://127.0.0.1:{clientPort}");
        PeerUrl = new Uri($"http://127.0.0.1:{peerPort}");
        DataDirectory = dataDirectory;
    }

    public string Name { get; }

    public Uri ClientUrl { get; }

    public Uri PeerUrl { get; }

    public string DataDirectory { get; }

    /// <summary>Whether its process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Its process id (while running).</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException($"etcd member {Name} is not running.");

    /// <summary>Its last output lines, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_lines)
            {
                return $"--- {Name} ({ClientUrl}) ---\n" + string.Join('\n', _lines);
            }
        }
    }

    internal void Start(string etcd, string initialCluster, string token)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"etcd member {Name} already runs.");
        }

        var info = new ProcessStartInfo(etcd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[
            "--name", Name, "--data-dir", DataDirectory,
            "--listen-client-urls", Url(ClientUrl), "--advertise-client-urls", Url(ClientUrl),
            "--listen-peer-urls", Url(PeerUrl), "--initial-advertise-peer-urls", Url(PeerUrl),
            "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", token,
            // Short raft timings keep elections (and the minimum lease TTL, 1.5 election timeouts) short.
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn"])
        {
            info.ArgumentList.Add(argument);
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException($"etcd member {Name} did not start.");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
    }

    /// <summary>A URL as etcd's flags take it (no trailing '/').</summary>
    internal static string Url(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    /// <summary>SIGKILL, then waits for the process.</summary>
    internal async Task KillAsync()
    {
        if (_process is { } process)
        {
            await Os.KillAsync(process);
        }
    }

    /// <summary>SIGTERM, SIGKILL after <paramref name="grace"/>, then waits for the process.</summary>
    internal async Task StopAsync(TimeSpan grace)
    {
        if (_process is { } process)
        {
            await Os.StopAsync(process, grace);
        }
    }

    internal void DisposeProcess()
    {
        _process?.Dispose();
        _process = null;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }
    }
}
