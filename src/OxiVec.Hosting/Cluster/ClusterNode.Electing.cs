using System.Net.Http.Json;
using OxiVec.Cluster;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Hosting.Cluster;

/// <summary>Electing: while nobody leads, the newest eligible member takes the leader key.</summary>
public sealed partial class ClusterNode
{
    /// <summary>The path of a member's live position (<see cref="ClusterEndpoints"/>), which candidates ask each other.</summary>
    internal const string MemberPath = "/oxivec/cluster/member";

    private async Task ElectAsync(IReadOnlyList<MemberState> members, CancellationToken cancellationToken)
    {
        ICoordinator coordinator = _coordinator!;
        SyncState? sync = await coordinator.GetSyncStateAsync(cancellationToken).ConfigureAwait(false);
        SwitchoverRequest? switchover = Fresh(await coordinator.GetSwitchoverAsync(cancellationToken).ConfigureAwait(false));
        Update(s => s with { Sync = sync, Switchover = switchover });

        // Positions asked live (Patroni asks its peers too): a published one may predate the last records a standby got.
        IReadOnlyList<MemberState> visible = await LivePositionsAsync(members.Where(m => m.NodeId != NodeId), cancellationToken).ConfigureAwait(false);
        MemberState self = CurrentState();
        ObserveLeaderPositions(visible);
        if (await coordinator.GetLeaderPositionAsync(cancellationToken).ConfigureAwait(false) is { } recorded)
        {
            ObserveLeader(recorded.Epoch, recorded.Lsn); // the dead leader's last recorded position (Patroni's /optime/leader)
        }

        ElectionDecision decision = Election.Decide(self, visible, sync, _options.Mode, _options.SyncStandbys, switchover, _leaderSeen.Lsn, _options.MaximumLagOnFailover);
        Decide(decision.Reason);
        if (!decision.Try)
        {
            return;
        }

        long sent = _time.GetTimestamp();
        LeadershipLease? lease = await coordinator.TryAcquireLeadershipAsync(new LeaderInfo(NodeId, _httpUrl, _grpcUrl), _options.LeaseTtl, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            Decide("another member took the lead first");
            return;
        }

        await TakeOverAsync(lease, sent, members, sync, switchover, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The members that answer now, with the positions they report (those that do not answer within a second are left out).</summary>
    private async Task<IReadOnlyList<MemberState>> LivePositionsAsync(IEnumerable<MemberState> members, CancellationToken cancellationToken)
    {
        MemberState?[] answers = await Task.WhenAll(members.Select(async member =>
        {
            try
            {
                using HttpResponseMessage response = await _peers.GetAsync(new Uri(member.HttpUrl + MemberPath), cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return null;
                }

                MemberEnvelope? envelope = await response.Content.ReadFromJsonAsync<MemberEnvelope>(QdrantResponse.Json, cancellationToken).ConfigureAwait(false);
                return envelope?.Result is { } state && state.NodeId == member.NodeId ? state : null;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or UriFormatException)
            {
                return null;
            }
        })).ConfigureAwait(false);
        return [.. answers.OfType<MemberState>()];
    }

    private sealed record MemberEnvelope(MemberState? Result);
}
