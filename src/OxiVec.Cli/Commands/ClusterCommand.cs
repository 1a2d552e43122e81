using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OxiVec.Cluster;
using OxiVec.Hosting.Cluster;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec cluster status --etcd URLS --cluster NAME [--json]</c> (members, roles, epochs, LSNs and lags, read from
/// etcd directly) and <c>oxivec cluster switchover --etcd URLS --cluster NAME --to NODE [--wait SECONDS]</c> (a planned
/// switchover: the leader stops taking writes, waits until NODE has flushed its last LSN, and hands over). docs/failover.md.
/// </summary>
internal static class ClusterCommand
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var command = new Command("cluster", "Show or steer a failover cluster (oxivec serve --cluster): its members and leader from etcd, or a planned switchover.");
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Switchover());
        return command;
    }

    private static (Option<string> Etcd, Option<string> Cluster) Common() => (
        new Option<string>("--etcd") { Description = "The etcd endpoints, http://HOST:PORT[,http://HOST:PORT...].", HelpName = "URLS", Required = true },
        new Option<string>("--cluster") { Description = "The cluster's name (serve --cluster).", HelpName = "NAME", Required = true });

    private static Command Status()
    {
        (Option<string> etcd, Option<string> cluster) = Common();
        Option<bool> json = new("--json") { Description = "Print one JSON object: {\"cluster\", \"leader\", \"epoch\", \"members\": [...], \"sync_set\", \"switchover\"}." };
        var command = new Command("status", "Show the cluster as etcd holds it: the leader and its epoch, every member's role, epoch, flushed and applied LSNs and lag, the synchronous set.") { etcd, cluster, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using EtcdCoordinator coordinator = Connect(parse.GetValue(etcd)!, parse.GetValue(cluster)!);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CallTimeout * 4);
            LeaderInfo? leader = await Call(() => coordinator.GetLeaderAsync(timeout.Token)).ConfigureAwait(false);
            IReadOnlyList<MemberState> members = await Call(() => coordinator.GetMembersAsync(timeout.Token)).ConfigureAwait(false);
            SyncState? sync = await Call(() => coordinator.GetSyncStateAsync(timeout.Token)).ConfigureAwait(false);
            SwitchoverRequest? switchover = await Call(() => coordinator.GetSwitchoverAsync(timeout.Token)).ConfigureAwait(false);
            var view = new ClusterStatusView(parse.GetValue(cluster)!, leader?.NodeId, leader?.Epoch ?? 0, ClusterMemberView.From(members, leader, sync), sync?.Members, switchover?.Target);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(view, QdrantResponse.Json));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"cluster {view.Cluster}: leader {view.Leader ?? "none"}{(view.Leader is null ? "" : $" (epoch {view.Epoch.ToString(CultureInfo.InvariantCulture)})")}");
            if (view.SyncSet is { } set)
            {
                Console.Out.WriteLine($"synchronous set: {(set.Count == 0 ? "(empty)" : string.Join(", ", set))}");
            }

            if (view.Switchover is { } target)
            {
                Console.Out.WriteLine($"switchover pending to: {target}");
            }

            Console.Out.WriteLine($"{"node",-16} {"role",-9} {"epoch",8} {"flushed",12} {"applied",12} {"lag",10}  url");
            foreach (ClusterMemberView m in view.Members)
            {
                string role = m.Role + (m.Leader ? "*" : "") + (m.Synchronous ? "s" : "");
                Console.Out.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{m.NodeId,-16} {role,-9} {m.Epoch,8} {m.FlushedLsn,12} {m.AppliedLsn,12} {(m.LagLsn is { } lag ? lag.ToString(CultureInfo.InvariantCulture) : "-"),10}  {m.HttpUrl}"));
            }

            Console.Out.WriteLine("(* holds the leader key, s in the synchronous set; lag in LSNs behind the leader's flushed LSN)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Switchover()
    {
        (Option<string> etcd, Option<string> cluster) = Common();
        Option<string> to = new("--to") { Description = "The member to hand the lead to (its --node-id).", HelpName = "NODE", Required = true };
        Option<int> wait = new("--wait") { Description = "How long to wait for the handover, in seconds (default 60).", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
        var command = new Command(
            "switchover",
            "Hand the lead to NODE without losing a write: the leader stops taking writes, waits until NODE has flushed its last LSN, resigns, and NODE takes over.")
        { etcd, cluster, to, wait };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string target = parse.GetValue(to)!;
            await using EtcdCoordinator coordinator = Connect(parse.GetValue(etcd)!, parse.GetValue(cluster)!);
            using var calls = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            calls.CancelAfter(CallTimeout * 2);
            LeaderInfo leader = await Call(() => coordinator.GetLeaderAsync(calls.Token)).ConfigureAwait(false)
                ?? throw new CliException(ExitCodes.Usage, "nobody leads the cluster now: a switchover needs a leader (a failover is automatic).");
            if (leader.NodeId == target)
            {
                Console.Out.WriteLine($"{target} leads already (epoch {leader.Epoch.ToString(CultureInfo.InvariantCulture)}).");
                return ExitCodes.Ok;
            }

            IReadOnlyList<MemberState> members = await Call(() => coordinator.GetMembersAsync(calls.Token)).ConfigureAwait(false);
            if (!members.Any(m => m.NodeId == target))
            {
                throw new CliException(ExitCodes.Usage, $"'{target}' is not a live member of the cluster ({string.Join(", ", members.Select(m => m.NodeId))}).");
            }

            await Call(async () =>
            {
                await coordinator.SetSwitchoverAsync(new SwitchoverRequest(target, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), calls.Token).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
            Console.Out.WriteLine($"switchover from {leader.NodeId} to {target} requested; waiting up to {parse.GetValue(wait).ToString(CultureInfo.InvariantCulture)} s");
            DateTimeOffset deadline = DateTimeOffset.UtcNow.AddSeconds(parse.GetValue(wait));
            while (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                poll.CancelAfter(CallTimeout);
                LeaderInfo? now;
                try
                {
                    now = await coordinator.GetLeaderAsync(poll.Token).ConfigureAwait(false);
                }
                catch (CoordinatorUnavailableException)
                {
                    continue;
                }

                if (now?.NodeId == target)
                {
                    Console.Out.WriteLine($"{target} leads at epoch {now.Epoch.ToString(CultureInfo.InvariantCulture)}.");
                    return ExitCodes.Ok;
                }
            }

            throw new CliException(ExitCodes.DataError, $"{target} did not take the lead within {parse.GetValue(wait).ToString(CultureInfo.InvariantCulture)} s; 'oxivec cluster status' shows where the cluster is (the leader abandons a switchover whose target does not catch up).");
        });
        return command;
    }

    private static EtcdCoordinator Connect(string etcd, string cluster)
    {
        try
        {
            return new EtcdCoordinator(new EtcdCoordinatorOptions { Endpoints = EtcdCoordinatorOptions.ParseEndpoints(etcd), ClusterName = cluster, CallTimeout = CallTimeout });
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, ex.Message, ex);
        }
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (CoordinatorUnavailableException ex)
        {
            throw new CliException(ExitCodes.DataError, $"etcd could not be reached: {ex.Message}", ex);
        }
    }

    /// <summary>What <c>cluster status --json</c> prints.</summary>
    private sealed record ClusterStatusView(
        string Cluster, string? Leader, long Epoch, IReadOnlyList<ClusterMemberView> Members, IReadOnlyList<string>? SyncSet, string? Switchover);
}
