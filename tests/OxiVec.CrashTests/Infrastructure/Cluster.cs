using System.Globalization;
using OxiVec.Wal;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>
/// A primary and its standbys as real <c>oxivec serve</c> processes on loopback: the standbys dial the primary through
/// one <see cref="FaultProxy"/> each, so the test can cut, stall and delay a standby's link, and a restarted primary
/// (new ports) is reached at the same address. Disposing kills every process (by id) and the proxies.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _root = new();
    private readonly string[] _primaryArguments;
    private readonly Dictionary<string, FaultProxy> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServerProcess?> _standbys = new(StringComparer.Ordinal);

    private Cluster(string[] primaryArguments) => _primaryArguments = primaryArguments;

    /// <summary>Writes a configuration file for <c>--config</c> in the cluster's directory; its path.</summary>
    public static string ConfigFile(string name, string json)
    {
        string path = Path.Combine(Path.GetTempPath(), "oxivec-crashtests", $"{name}-{Guid.NewGuid():n}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    public ServerProcess Primary { get; private set; } = null!;

    public string PrimaryDirectory => _root.Sub("primary");

    public string StandbyDirectory(string name) => _root.Sub("standby-" + name);

    public FaultProxy Link(string name) => _links[name];

    public ServerProcess Standby(string name) => _standbys[name] ?? throw new InvalidOperationException($"Standby {name} is not running.");

    /// <summary>Starts the primary (fsync per commit, gRPC on a free port, <paramref name="primaryArguments"/>) and the named standbys.</summary>
    public static async Task<Cluster> StartAsync(string[] standbys, params string[] primaryArguments)
    {
        var cluster = new Cluster(primaryArguments);
        try
        {
            await cluster.StartPrimaryAsync();
            foreach (string name in standbys)
            {
                cluster._links[name] = new FaultProxy(cluster.Primary.GrpcAddress);
                await cluster.StartStandbyAsync(name);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILLs the primary.</summary>
    public Task KillPrimaryAsync() => Primary.KillAsync();

    /// <summary>Starts the primary again on its directory (new ports) and points every standby's link at it.</summary>
    public async Task RestartPrimaryAsync()
    {
        await Primary.DisposeAsync();
        await StartPrimaryAsync();
        foreach (FaultProxy link in _links.Values)
        {
            link.Retarget(Primary.GrpcAddress);
            link.CutAll(); // a half-open stream to the dead primary would otherwise wait for a keepalive to fail
        }
    }

    public async Task KillStandbyAsync(string name)
    {
        await Standby(name).DisposeAsync();
        _standbys[name] = null;
    }

    public async Task StartStandbyAsync(string name)
    {
        // A primary restarted by the test is back within seconds: retry every 250 ms at most instead of backing off to 10 s.
        string config = _root.Sub("standby.json");
        await File.WriteAllTextAsync(config, """{"OxiVec": {"Replication": {"MaxReconnectDelayMs": 250}}}""");
        _standbys[name] = await ServerProcess.StartAsync(
            StandbyDirectory(name), Patience, "--sync-interval-ms", "0", "--standby-of", _links[name].Address.ToString(), "--node-name", name, "--config", config);
    }

    /// <summary>SIGTERMs every process (standbys first) and waits for them: their directories can then be read.</summary>
    public async Task StopAllAsync()
    {
        foreach (ServerProcess? standby in _standbys.Values)
        {
            if (standby is not null)
            {
                await standby.TerminateAsync(Patience);
            }
        }

        await Primary.TerminateAsync(Patience);
    }

    /// <summary>
    /// Checks that the standby's log is a prefix of the primary's: every record the standby holds is, byte for byte
    /// (LSN, time, type, flags, payload), the primary's record at that LSN; its LSNs are consecutive (nothing
    /// missing or duplicated); it ends at or before the primary's. Returns the standby's last LSN.
    /// </summary>
    public long AssertStandbyLogIsPrefixOfPrimary(string name)
    {
        Dictionary<long, WalRecord> primary = new WalReader(Path.Combine(PrimaryDirectory, "wal")).ReadRecords().ToDictionary(r => r.Lsn);
        long previous = -1;
        long compared = 0;
        foreach (WalRecord record in new WalReader(Path.Combine(StandbyDirectory(name), "wal")).ReadRecords())
        {
            Assert.True(previous < 0 || record.Lsn == previous + 1, $"standby {name}: LSN {record.Lsn} follows {previous} (missing or duplicated records)");
            previous = record.Lsn;
            if (primary.TryGetValue(record.Lsn, out WalRecord? mine))
            {
                Assert.True(
                    mine.Timestamp == record.Timestamp && mine.Type == record.Type && mine.Flags == record.Flags && mine.Payload.Span.SequenceEqual(record.Payload.Span),
                    $"standby {name}: its record at LSN {record.Lsn} differs from the primary's");
                compared++;
            }
            else
            {
                Assert.True(primary.Count == 0 || record.Lsn < primary.Keys.Min(), $"standby {name} holds LSN {record.Lsn}, which the primary never logged (its log ends at {primary.Keys.DefaultIfEmpty().Max()})");
            }
        }

        Assert.True(compared > 0, $"standby {name} shares no record with the primary to compare");
        return previous;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ServerProcess? standby in _standbys.Values)
        {
            if (standby is not null)
            {
                await standby.DisposeAsync();
            }
        }

        if (Primary is not null)
        {
            await Primary.DisposeAsync();
        }

        foreach (FaultProxy link in _links.Values)
        {
            await link.DisposeAsync();
        }

        _root.Dispose();
    }

    private async Task StartPrimaryAsync() =>
        Primary = await ServerProcess.StartAsync(PrimaryDirectory, Patience, ["--sync-interval-ms", "0", "--grpc", "127.0.0.1:0", .. _primaryArguments]);

    public static string Lsn(long lsn) => lsn.ToString(CultureInfo.InvariantCulture);
}
