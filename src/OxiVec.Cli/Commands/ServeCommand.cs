using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OxiVec.Hosting;
using OxiVec.Hosting.Cluster;
using OxiVec.Hosting.Replication;
using OxiVec.Hosting.Server;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec serve --data DIR [--http HOST:PORT] [--grpc HOST:PORT] [--api-key KEY] [--read-only-api-key KEY] [--sync-interval-ms N] [--config FILE]</c>
/// and the replication options (docs/replication.md) or the cluster options (docs/failover.md): runs the network server (Qdrant-compatible REST) over one
/// long-lived database until SIGTERM or Ctrl+C, then finishes in-flight requests, checkpoints and closes.
/// </summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static Command Create()
    {
        Option<string?> dataOption = new("--data") { Description = "The data directory (created when missing). Or OxiVec:DataDirectory in --config.", HelpName = "DIR" };
        Option<string?> httpOption = new("--http") { Description = "Where to listen, HOST:PORT (default 127.0.0.1:6333; port 0 picks a free port).", HelpName = "HOST:PORT" };
        Option<string?> apiKeyOption = new("--api-key") { Description = "The key that may read and write (also OXIVEC_API_KEY).", HelpName = "KEY" };
        Option<string?> readOnlyKeyOption = new("--read-only-api-key") { Description = "A key that may only read and search.", HelpName = "KEY" };
        Option<int?> syncOption = new("--sync-interval-ms") { Description = "WAL sync interval: 0 fsyncs every commit before it is acknowledged (default 1000).", HelpName = "N" };
        Option<string?> configOption = new("--config") { Description = "A JSON configuration file (sections OxiVec and OxiVec:Server; see docs/server.md).", HelpName = "FILE" };
        Option<bool> anonymousOption = new("--allow-anonymous") { Description = "Serve without any API key on an address other than loopback." };
        Option<string?> grpcOption = new("--grpc") { Description = "Where the gRPC replication endpoint listens, HOST:PORT (HTTP/2 only; port 0 picks a free port). A primary serves standbys there.", HelpName = "HOST:PORT" };
        Option<string?> syncStandbysOption = new("--synchronous-standbys") { Description = "Primary: which standbys a commit waits for, \"FIRST n (a, b)\" or \"ANY n (a, b, c)\" (default: none, asynchronous).", HelpName = "SET" };
        Option<string?> ackLevelOption = new("--ack-level") { Description = "Primary: how far the synchronous standbys must have got, remote-write, remote-flush (default) or remote-apply.", HelpName = "LEVEL" };
        Option<string?> tooFewOption = new("--when-too-few-standbys") { Description = "Primary: block (default) or degrade (acknowledge with the local policy, warn and count) when too few synchronous standbys are connected.", HelpName = "block|degrade" };
        Option<string[]> standbyOption = new("--standby") { Description = "Primary: a standby to dial and push to, NAME=URL (repeatable; the standby runs with --wait-for-push).", HelpName = "NAME=URL", AllowMultipleArgumentsPerToken = false };
        Option<string?> slotCapOption = new("--max-slot-wal-keep-size") { Description = "Primary: the most WAL kept for a standby's slot, bytes or with KiB, MiB, GiB (default 1GiB); further behind, it needs a base backup.", HelpName = "SIZE" };
        Option<string?> standbyOfOption = new("--standby-of") { Description = "Run as a standby of the primary whose gRPC endpoint is URL (http://HOST:PORT); reads only, writes answer 421.", HelpName = "URL" };
        Option<string?> nodeNameOption = new("--node-name") { Description = "Standby: its name, as the primary's --synchronous-standbys lists it.", HelpName = "NAME" };
        Option<bool> waitForPushOption = new("--wait-for-push") { Description = "Standby: wait for the primary to dial this node's --grpc endpoint (push mode) instead of dialing --standby-of." };
        Option<string?> primaryHttpOption = new("--primary-http-url") { Description = "Standby: the primary's REST address, named to clients whose writes are refused (default: --standby-of).", HelpName = "URL" };
        Option<string?> clusterOption = new("--cluster") { Description = "Join the failover cluster NAME (docs/failover.md): lead or follow whoever holds the leadership lease in etcd.", HelpName = "NAME" };
        Option<string?> nodeIdOption = new("--node-id") { Description = "Cluster: this node's id, unique in the cluster (letters, digits, - and _).", HelpName = "ID" };
        Option<string?> etcdOption = new("--etcd") { Description = "Cluster: the etcd endpoints, http://HOST:PORT[,http://HOST:PORT...].", HelpName = "URLS" };
        Option<string?> replicationOption = new("--replication") { Description = "Cluster: async (default), sync (FIRST n over the other members) or quorum (ANY n).", HelpName = "async|sync|quorum" };
        Option<int?> syncStandbysCountOption = new("--sync-standbys") { Description = "Cluster, sync and quorum modes: how many standbys confirm each commit (default 1).", HelpName = "N" };
        Option<int?> leaseTtlOption = new("--lease-ttl") { Description = "Cluster: the leadership lease's TTL in seconds (default 5, at least 2).", HelpName = "SECONDS" };
        Option<int?> removalGraceOption = new("--member-removal-grace") { Description = "Cluster, sync and quorum modes: a member gone this many seconds leaves the synchronous set (default 300).", HelpName = "SECONDS" };
        Option<long?> maxLagOption = new("--max-lag-on-failover") { Description = "Cluster: a standby further behind the last leader position it saw than this many records does not try to take over (default 4096).", HelpName = "RECORDS" };
        Option<string?> advertiseHttpOption = new("--advertise-http") { Description = "Cluster: the REST URL other members and clients reach this node at (default: the bound --http address).", HelpName = "URL" };
        Option<string?> advertiseGrpcOption = new("--advertise-grpc") { Description = "Cluster: the gRPC URL standbys reach this node at (default: the bound --grpc address).", HelpName = "URL" };
        Option<string?> forwardingOption = new("--write-forwarding") { Description = "Cluster: a write sent to a node that is not the primary is redirected (307, default) or proxied to it.", HelpName = "redirect|proxy" };
        var command = new Command(Name, "Run the OxiVec server: Qdrant-compatible REST over one database, until SIGTERM or Ctrl+C (then it finishes in-flight requests, checkpoints and closes).")
        {
            dataOption, httpOption, apiKeyOption, readOnlyKeyOption, syncOption, configOption, anonymousOption,
            grpcOption, syncStandbysOption, ackLevelOption, tooFewOption, standbyOption, slotCapOption, standbyOfOption, nodeNameOption, waitForPushOption, primaryHttpOption,
            clusterOption, nodeIdOption, etcdOption, replicationOption, syncStandbysCountOption, leaseTtlOption, maxLagOption, removalGraceOption, advertiseHttpOption, advertiseGrpcOption, forwardingOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides[key] = value;
                }
            }

            Set($"{OxiVecOptions.SectionName}:{nameof(OxiVecOptions.DataDirectory)}", parse.GetValue(dataOption));
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.Http)}", parse.GetValue(httpOption));
            // OXIVEC_API_KEY also reaches the server through the environment configuration source (OxiVecServer.ApiKeyVariable).
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.ApiKey)}", parse.GetValue(apiKeyOption));
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.ReadOnlyApiKey)}", parse.GetValue(readOnlyKeyOption));
            Set($"{OxiVecOptions.SectionName}:{nameof(OxiVecOptions.SyncIntervalMs)}", parse.GetValue(syncOption)?.ToString(CultureInfo.InvariantCulture));
            if (parse.GetValue(anonymousOption))
            {
                Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.AllowAnonymous)}", "true");
            }

            const string R = ReplicationHostOptions.SectionName;
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.Grpc)}", parse.GetValue(grpcOption));
            Set($"{R}:{nameof(ReplicationHostOptions.SynchronousStandbys)}", parse.GetValue(syncStandbysOption));
            Set($"{R}:{nameof(ReplicationHostOptions.AckLevel)}", parse.GetValue(ackLevelOption));
            Set($"{R}:{nameof(ReplicationHostOptions.WhenTooFewStandbys)}", parse.GetValue(tooFewOption));
            Set($"{R}:{nameof(ReplicationHostOptions.StandbyOf)}", parse.GetValue(standbyOfOption));
            Set($"{R}:{nameof(ReplicationHostOptions.NodeName)}", parse.GetValue(nodeNameOption));
            Set($"{R}:{nameof(ReplicationHostOptions.PrimaryHttpUrl)}", parse.GetValue(primaryHttpOption));
            if (parse.GetValue(waitForPushOption))
            {
                Set($"{R}:{nameof(ReplicationHostOptions.WaitForPush)}", "true");
            }

            string[] standbys = parse.GetValue(standbyOption) ?? [];
            for (int i = 0; i < standbys.Length; i++)
            {
                Set($"{R}:{nameof(ReplicationHostOptions.Standbys)}:{i.ToString(CultureInfo.InvariantCulture)}", standbys[i]);
            }

            if (parse.GetValue(slotCapOption) is { } cap)
            {
                Set($"{R}:{nameof(ReplicationHostOptions.MaxSlotWalKeepBytes)}", ByteSize.Parse(cap, "--max-slot-wal-keep-size").ToString(CultureInfo.InvariantCulture));
            }

            const string C = ClusterOptions.SectionName;
            Set($"{C}:{nameof(ClusterOptions.Name)}", parse.GetValue(clusterOption));
            Set($"{C}:{nameof(ClusterOptions.NodeId)}", parse.GetValue(nodeIdOption));
            Set($"{C}:{nameof(ClusterOptions.Etcd)}", parse.GetValue(etcdOption));
            Set($"{C}:{nameof(ClusterOptions.Replication)}", parse.GetValue(replicationOption));
            Set($"{C}:{nameof(ClusterOptions.SyncStandbys)}", parse.GetValue(syncStandbysCountOption)?.ToString(CultureInfo.InvariantCulture));
            Set($"{C}:{nameof(ClusterOptions.LeaseTtlSeconds)}", parse.GetValue(leaseTtlOption)?.ToString(CultureInfo.InvariantCulture));
            Set($"{C}:{nameof(ClusterOptions.MaximumLagOnFailover)}", parse.GetValue(maxLagOption)?.ToString(CultureInfo.InvariantCulture));
            Set($"{C}:{nameof(ClusterOptions.MemberRemovalGraceSeconds)}", parse.GetValue(removalGraceOption)?.ToString(CultureInfo.InvariantCulture));
            Set($"{C}:{nameof(ClusterOptions.AdvertiseHttp)}", parse.GetValue(advertiseHttpOption));
            Set($"{C}:{nameof(ClusterOptions.AdvertiseGrpc)}", parse.GetValue(advertiseGrpcOption));
            Set($"{C}:{nameof(ClusterOptions.WriteForwarding)}", parse.GetValue(forwardingOption));

            string? configFile = parse.GetValue(configOption);
            if (configFile is not null && !File.Exists(configFile))
            {
                throw new CliException($"--config: the file '{configFile}' does not exist.");
            }

            WebApplication built;
            try
            {
                built = OxiVecServer.Build([], configFile, overrides);
            }
            catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or FormatException)
            {
                // Reading the configuration failed: a file that is not JSON, a value of the wrong type.
                throw new CliException($"bad configuration: {ex.Message}", ex);
            }

            await using WebApplication app = built;
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ValidationFailures(ex) is { Count: > 0 } failures)
            {
                throw new CliException($"bad configuration: {string.Join(" ", failures)}", ex);
            }
            catch (IOException ex)
            {
                // Kestrel could not listen: the address is in use or not this machine's.
                throw new CliException($"cannot listen: {ex.Message}", ex);
            }

            // The gRPC line first: a process watching for "listening on" then has both.
            if (OxiVecServer.GrpcAddress(app) is { } grpc)
            {
                Console.Out.WriteLine($"oxivec serve: gRPC replication on {grpc}");
            }

            foreach (string address in OxiVecServer.Addresses(app))
            {
                Console.Out.WriteLine($"oxivec serve: listening on {address}");
            }

            Console.Out.Flush();

            // SIGTERM and Ctrl+C reach both System.CommandLine (which cancels cancellationToken) and the host's console
            // lifetime (which stops the application); either way the host stops: Kestrel stops accepting and lets
            // in-flight requests finish, then the database host checkpoints and closes.
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The failures of the options validation that stopped the start (one exception, or several aggregated); empty for any other exception.</summary>
    private static List<string> ValidationFailures(Exception ex) => ex switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [message],
        AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. aggregate.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => [],
    };
}
