using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using dotnet_etcd;
using dotnet_etcd.interfaces;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace OxiVec.Cluster;

/// <summary>
/// <see cref="ICoordinator"/> on etcd v3 (through dotnet-etcd's gRPC clients), as Patroni uses it: the leader key is
/// created bound to a lease in a transaction that succeeds only if the key does not exist, and its creation revision is
/// the epoch. Every call has a deadline (<see cref="EtcdCoordinatorOptions.CallTimeout"/>) and asks etcd to refuse it
/// when the member answering has no raft leader; a call that cannot be answered throws
/// <see cref="CoordinatorUnavailableException"/>, never a guess.
/// </summary>
public sealed class EtcdCoordinator : ICoordinator
{
    private static readonly Metadata RequireLeader = [new Metadata.Entry("hasleader", "true")];
    private readonly EtcdCoordinatorOptions _options;
    private readonly GrpcChannel _channel;
    private readonly EtcdClient _client;
    private readonly IConnection _etcd;
    private readonly EtcdKeys _keys;
    private readonly SemaphoreSlim _memberLeaseLock = new(1, 1);
    private MemberLease? _memberLease; // guarded by _memberLeaseLock

    /// <summary>Creates a coordinator for <see cref="EtcdCoordinatorOptions.ClusterName"/>; nothing is sent until the first call.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names the setting.</exception>
    public EtcdCoordinator(EtcdCoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _keys = new EtcdKeys(options.KeyPrefix, options.ClusterName);
        _channel = EtcdChannel.Create(options);
        _client = new EtcdClient(_channel.CreateCallInvoker());
        _etcd = _client.GetConnection();
    }

    /// <summary>The settings this coordinator runs with.</summary>
    public EtcdCoordinatorOptions Options => _options;

    /// <inheritdoc/>
    /// <remarks>
    /// The lease is granted first (its TTL is counted from then; etcd rounds <paramref name="ttl"/> up to whole seconds
    /// and may raise it to its minimum), then the transaction runs: a caller measures its leadership deadline from the
    /// monotonic time before this call. When the answer is unknown (a deadline) the method throws and the lease, if
    /// etcd bound the key to it, expires unrenewed.
    /// </remarks>
    public async Task<LeadershipLease?> TryAcquireLeadershipAsync(LeaderInfo candidate, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        long ttlSeconds = TtlSeconds(ttl);
        LeaseGrantResponse grant = await CallAsync(
            "grant the leadership lease",
            o => _etcd.LeaseClient.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, o).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        bool acquired = false;
        try
        {
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = _keys.Leader, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _keys.Leader, Value = Serialize(candidate with { Epoch = 0 }, ClusterJsonContext.Default.LeaderInfo), Lease = grant.ID } });
            txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = _keys.Leader } });
            TxnResponse response = await CallAsync("create the leader key", o => _etcd.KVClient.TxnAsync(txn, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
            if (!response.Succeeded)
            {
                return null;
            }

            KeyValue key = response.Responses[1].ResponseRange.Kvs.Single();
            acquired = true;
            _options.Logger.LogInformation("{Node} leads cluster {Cluster} with epoch {Epoch} (lease {Lease:x}, TTL {Ttl} s)", candidate.NodeId, _options.ClusterName, key.CreateRevision, grant.ID, grant.TTL);
            return new LeadershipLease(candidate with { Epoch = key.CreateRevision }, grant.ID, TimeSpan.FromSeconds(grant.TTL));
        }
        finally
        {
            if (!acquired)
            {
                // Not leading (or unknown): the lease is revoked at once when etcd answers, else it expires unrenewed.
                await RevokeQuietlyAsync(grant.ID).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<LeaseRenewal> RenewAsync(LeadershipLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        long ttl = await KeepAliveOnceAsync(lease.LeaseId, cancellationToken).ConfigureAwait(false);
        if (ttl <= 0)
        {
            _options.Logger.LogWarning("Leadership lease {Lease:x} of epoch {Epoch} has expired", lease.LeaseId, lease.Epoch);
            return new LeaseRenewal(false, TimeSpan.Zero);
        }

        KeyValue? key = await GetKeyAsync(_keys.Leader, "read the leader key", cancellationToken).ConfigureAwait(false);
        if (key is null || key.Lease != lease.LeaseId || key.CreateRevision != lease.Epoch)
        {
            _options.Logger.LogWarning("The leader key is no longer bound to lease {Lease:x} of epoch {Epoch}", lease.LeaseId, lease.Epoch);
            return new LeaseRenewal(false, TimeSpan.Zero);
        }

        return new LeaseRenewal(true, TimeSpan.FromSeconds(ttl));
    }

    /// <inheritdoc/>
    public async Task ResignAsync(LeadershipLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var txn = new TxnRequest();
        AddLeaderGuard(txn, lease);
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = _keys.Leader } });
        await CallAsync("delete the leader key", o => _etcd.KVClient.TxnAsync(txn, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        await CallAsync(
            "revoke the leadership lease",
            async o =>
            {
                try
                {
                    return await _etcd.LeaseClient.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.LeaseId }, o).ResponseAsync.ConfigureAwait(false);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                {
                    return new LeaseRevokeResponse(); // already expired
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken)
    {
        KeyValue? key = await GetKeyAsync(_keys.Leader, "read the leader key", cancellationToken).ConfigureAwait(false);
        return key is null ? null : Deserialize(key, ClusterJsonContext.Default.LeaderInfo) with { Epoch = key.CreateRevision };
    }

    /// <inheritdoc/>
    public async Task PublishMemberAsync(MemberState state, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentException.ThrowIfNullOrEmpty(state.NodeId, nameof(state));
        long ttlSeconds = TtlSeconds(ttl);
        await _memberLeaseLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long leaseId = await MemberLeaseAsync(ttlSeconds, cancellationToken).ConfigureAwait(false);
            var put = new PutRequest { Key = _keys.Member(state.NodeId), Value = Serialize(state, ClusterJsonContext.Default.MemberState), Lease = leaseId };
            try
            {
                await CallAsync("publish the member's state", o => _etcd.KVClient.PutAsync(put, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // The lease expired between the keepalive and the put: publish under a new one.
                _memberLease = null;
                put.Lease = await MemberLeaseAsync(ttlSeconds, cancellationToken).ConfigureAwait(false);
                await CallAsync("publish the member's state", o => _etcd.KVClient.PutAsync(put, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _memberLeaseLock.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<MemberState>> GetMembersAsync(CancellationToken cancellationToken)
    {
        RangeResponse range = await CallAsync(
            "read the members",
            o => _etcd.KVClient.RangeAsync(new RangeRequest { Key = _keys.MembersPrefix, RangeEnd = _keys.MembersEnd }, o).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        return range.Kvs.Select(kv => Deserialize(kv, ClusterJsonContext.Default.MemberState)).OrderBy(m => m.NodeId, StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc/>
    public async Task<bool> SetSyncStateAsync(SyncState state, LeadershipLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(lease);
        return await PutAsLeaderAsync(_keys.Sync, Serialize(state, ClusterJsonContext.Default.SyncState), lease, "publish the synchronous set", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<SyncState?> GetSyncStateAsync(CancellationToken cancellationToken)
    {
        KeyValue? key = await GetKeyAsync(_keys.Sync, "read the synchronous set", cancellationToken).ConfigureAwait(false);
        return key is null ? null : Deserialize(key, ClusterJsonContext.Default.SyncState);
    }

    /// <inheritdoc/>
    public async Task<bool> SetLeaderPositionAsync(LeaderPosition position, LeadershipLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(position);
        ArgumentNullException.ThrowIfNull(lease);
        return await PutAsLeaderAsync(_keys.Optime, Serialize(position, ClusterJsonContext.Default.LeaderPosition), lease, "record the leader position", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts <paramref name="value"/> under <paramref name="key"/> only while <paramref name="lease"/> still holds the leader key; false when it does not.</summary>
    private async Task<bool> PutAsLeaderAsync(ByteString key, ByteString value, LeadershipLease lease, string what, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        AddLeaderGuard(txn, lease);
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value } });
        TxnResponse response = await CallAsync(what, o => _etcd.KVClient.TxnAsync(txn, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <inheritdoc/>
    public async Task<LeaderPosition?> GetLeaderPositionAsync(CancellationToken cancellationToken)
    {
        KeyValue? key = await GetKeyAsync(_keys.Optime, "read the leader position", cancellationToken).ConfigureAwait(false);
        return key is null ? null : Deserialize(key, ClusterJsonContext.Default.LeaderPosition);
    }

    /// <inheritdoc/>
    public async Task SetSwitchoverAsync(SwitchoverRequest? request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            await CallAsync("clear the switchover request", o => _etcd.KVClient.DeleteRangeAsync(new DeleteRangeRequest { Key = _keys.Switchover }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
            return;
        }

        ArgumentException.ThrowIfNullOrEmpty(request.Target, nameof(request));
        var put = new PutRequest { Key = _keys.Switchover, Value = Serialize(request, ClusterJsonContext.Default.SwitchoverRequest) };
        await CallAsync("request a switchover", o => _etcd.KVClient.PutAsync(put, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<SwitchoverRequest?> GetSwitchoverAsync(CancellationToken cancellationToken)
    {
        KeyValue? key = await GetKeyAsync(_keys.Switchover, "read the switchover request", cancellationToken).ConfigureAwait(false);
        return key is null ? null : Deserialize(key, ClusterJsonContext.Default.SwitchoverRequest);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ClusterChange> WatchAsync(CancellationToken cancellationToken) => WatchAsync(0, cancellationToken);

    /// <summary>
    /// Changes to the cluster's keys from revision <paramref name="startRevision"/> on (0: from now), until cancelled:
    /// read the state, then watch from the revision after the one read, and no change is missed. A watch that breaks,
    /// or whose start revision was compacted, ends with <see cref="CoordinatorUnavailableException"/>.
    /// </summary>
    public async IAsyncEnumerable<ClusterChange> WatchAsync(long startRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startRevision);
        using AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call = _etcd.WatchClient.Watch(RequireLeader, deadline: null, cancellationToken);
        var create = new WatchCreateRequest { Key = _keys.RootPrefix, RangeEnd = _keys.RootEnd, StartRevision = startRevision };
        await Translate(call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken), "start the watch", cancellationToken).ConfigureAwait(false);
        while (true)
        {
            bool more = await Translate(call.ResponseStream.MoveNext(cancellationToken), "watch the cluster's keys", cancellationToken).ConfigureAwait(false);
            if (!more)
            {
                throw new CoordinatorUnavailableException("etcd ended the watch of the cluster's keys.");
            }

            WatchResponse response = call.ResponseStream.Current;
            if (response.Canceled || response.CompactRevision != 0)
            {
                throw new CoordinatorUnavailableException(
                    $"etcd cancelled the watch of the cluster's keys ({(response.CompactRevision != 0 ? $"revision {startRevision} compacted up to {response.CompactRevision}" : response.CancelReason)}); read the state again and watch anew.");
            }

            foreach (Event change in response.Events)
            {
                if (_keys.Classify(change.Kv.Key, change.Type == Event.Types.EventType.Delete) is { } kind)
                {
                    yield return new ClusterChange(kind, change.Kv.ModRevision);
                }
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _memberLeaseLock.WaitAsync().ConfigureAwait(false);
        _memberLease = null; // expires on its own: a member that stops publishing disappears after its TTL
        _memberLeaseLock.Release();
        _client.Dispose();
        _channel.Dispose();
        _memberLeaseLock.Dispose();
    }

    private static long TtlSeconds(TimeSpan ttl)
    {
        if (ttl < TimeSpan.FromSeconds(1) || ttl > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A lease TTL must be between 1 second and 1 hour (etcd counts whole seconds).");
        }

        return (long)Math.Ceiling(ttl.TotalSeconds);
    }

    private static ByteString Serialize<T>(T value, JsonTypeInfo<T> type) => ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(value, type));

    private T Deserialize<T>(KeyValue kv, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(kv.Value.Span, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"etcd key '{kv.Key.ToStringUtf8()}' (revision {kv.ModRevision}) of cluster {_options.ClusterName} does not hold a {typeof(T).Name} as JSON: {e.Message}", e);
        }
    }

    /// <summary>Compares the leader key with the lease's: same creation revision (epoch), same lease.</summary>
    private void AddLeaderGuard(TxnRequest txn, LeadershipLease lease)
    {
        txn.Compare.Add(new Compare { Key = _keys.Leader, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = lease.Epoch });
        txn.Compare.Add(new Compare { Key = _keys.Leader, Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.Equal, Lease = lease.LeaseId });
    }

    private async Task<KeyValue?> GetKeyAsync(ByteString key, string what, CancellationToken cancellationToken)
    {
        RangeResponse range = await CallAsync(what, o => _etcd.KVClient.RangeAsync(new RangeRequest { Key = key }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return range.Kvs.Count == 0 ? null : range.Kvs[0];
    }

    /// <summary>The member's lease, kept alive by this call, granted anew when it has expired (or was never granted).</summary>
    private async Task<long> MemberLeaseAsync(long ttlSeconds, CancellationToken cancellationToken)
    {
        if (_memberLease is { } held && held.TtlSeconds == ttlSeconds && await KeepAliveOnceAsync(held.Id, cancellationToken).ConfigureAwait(false) > 0)
        {
            return held.Id;
        }

        LeaseGrantResponse grant = await CallAsync(
            "grant the member's lease",
            o => _etcd.LeaseClient.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, o).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        _memberLease = new MemberLease(grant.ID, ttlSeconds);
        return grant.ID;
    }

    /// <summary>One keepalive round trip on a stream that ends with the call; returns the TTL granted (0: the lease has expired).</summary>
    private Task<long> KeepAliveOnceAsync(long leaseId, CancellationToken cancellationToken) => CallAsync(
        "renew a lease",
        async o =>
        {
            using AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call = _etcd.LeaseClient.LeaseKeepAlive(o);
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = leaseId }, o.CancellationToken).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            return await call.ResponseStream.MoveNext(o.CancellationToken).ConfigureAwait(false)
                ? call.ResponseStream.Current.TTL
                : throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the keepalive stream without an answer"));
        },
        cancellationToken);

    private async Task RevokeQuietlyAsync(long leaseId)
    {
        try
        {
            using var bounded = new CancellationTokenSource(_options.CallTimeout);
            await CallAsync("revoke an unused lease", o => _etcd.LeaseClient.LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId }, o).ResponseAsync, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CoordinatorUnavailableException or OperationCanceledException or RpcException)
        {
            _options.Logger.LogDebug(e, "Lease {Lease:x} not revoked; it expires after its TTL", leaseId);
        }
    }

    /// <summary>
    /// Runs one call with the per-call deadline and the caller's token. The caller's cancellation surfaces as
    /// <see cref="OperationCanceledException"/>; a deadline, an unreachable etcd, or a member without a leader as
    /// <see cref="CoordinatorUnavailableException"/>; <c>NotFound</c> (an expired lease) is left to the caller.
    /// </summary>
    private async Task<T> CallAsync<T>(string what, Func<CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        var options = new CallOptions(RequireLeader, DateTime.UtcNow + _options.CallTimeout, cancellationToken);
        return await Translate(call(options), what, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> Translate<T>(Task<T> call, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or HttpRequestException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Cancelled while trying to {what}.", e, cancellationToken);
        }
        catch (Exception e) when (e is RpcException { StatusCode: not StatusCode.NotFound } or OperationCanceledException or HttpRequestException)
        {
            string status = e is RpcException rpc ? $"{rpc.Status.StatusCode} {rpc.Status.Detail}" : e.Message;
            _options.Logger.LogWarning("etcd could not {What} for cluster {Cluster}: {Status}", what, _options.ClusterName, status);
            throw new CoordinatorUnavailableException(
                $"etcd ({string.Join(",", _options.Endpoints)}) could not {what} for cluster {_options.ClusterName} within {_options.CallTimeout.TotalMilliseconds:0} ms: {status}", e);
        }
    }

    private async Task Translate(Task call, string what, CancellationToken cancellationToken) =>
        await Translate(WithResult(call), what, cancellationToken).ConfigureAwait(false);

    private static async Task<bool> WithResult(Task call)
    {
        await call.ConfigureAwait(false);
        return true;
    }

    private sealed record MemberLease(long Id, long TtlSeconds);
}
