using Microsoft.Extensions.Logging;
using OxiVec.Internal;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// The primary's commit gate: a commit (after the local sync policy) waits until the synchronous set has confirmed
/// its LSN at the ack level. With too few standbys connected it blocks, or, with
/// <see cref="TooFewStandbysBehavior.DegradeToAsync"/>, lets every commit through (logging a warning once per
/// transition and counting it) until enough are back.
/// </summary>
/// <remarks>Thread safe: <see cref="Update"/> is called under the replicator's state lock, waits from any thread.</remarks>
internal sealed class SyncCommitGate : ICommitGate
{
    private readonly SynchronousStandbyPolicy _policy;
    private readonly TooFewStandbysBehavior _whenTooFew;
    private readonly ILogger _logger;
    private readonly Action _degradedTransition;
    private readonly LsnWaiters _confirmed;
    private bool _degraded;
    private long _confirmedBeforeDurable;

    /// <param name="policy">The synchronous set's policy.</param>
    /// <param name="whenTooFew">What commits do with too few standbys connected.</param>
    /// <param name="logger">Logging.</param>
    /// <param name="degradedTransition">Called at each transition to degraded.</param>
    /// <param name="localDurable">
    /// The primary WAL's durable LSN now, for <see cref="WaitConfirmedAndDurableAsync"/>; its owner calls
    /// <see cref="LocalDurable"/> after every rise (0 when the gate serves no such waits: tests).
    /// </param>
    public SyncCommitGate(SynchronousStandbyPolicy policy, TooFewStandbysBehavior whenTooFew, ILogger logger, Action degradedTransition, Func<long>? localDurable = null)
    {
        _policy = policy;
        _whenTooFew = whenTooFew;
        _logger = logger;
        _degradedTransition = degradedTransition;
        _confirmed = new LsnWaiters(localDurable ?? (static () => 0));
    }

    /// <inheritdoc/>
    public long ConfirmedBeforeDurable => Interlocked.Read(ref _confirmedBeforeDurable);

    /// <summary>Whether commits are let through without enough standbys now.</summary>
    public bool Degraded => Volatile.Read(ref _degraded);

    /// <summary>The confirmed LSN last computed.</summary>
    public long ConfirmedLsn => _confirmed.Reached;

    /// <summary>The synchronous set last computed.</summary>
    public IReadOnlySet<string> SyncSet { get; private set; } = new HashSet<string>();

    /// <summary>Commits waiting (tests).</summary>
    public int Waiting => _confirmed.Count;

    /// <inheritdoc/>
    public Task WaitConfirmedAsync(long lsn) => _confirmed.WaitAsync(lsn);

    /// <inheritdoc/>
    public Task WaitConfirmedAndDurableAsync(long lsn) => _confirmed.WaitBothAsync(lsn);

    /// <summary>
    /// The primary's WAL made everything through <paramref name="lsn"/> durable: completes the waits for both that the
    /// standbys had confirmed already. Called on the thread that published it, after every rise.
    /// </summary>
    public void LocalDurable(long lsn)
    {
        int woken = _confirmed.AdvanceSecond(lsn);
        if (woken > 0 && !Degraded)
        {
            Interlocked.Add(ref _confirmedBeforeDurable, woken);
        }
    }

    /// <summary>Recomputes the set and the confirmed LSN from the standbys' positions at the gate's level.</summary>
    public void Update(IReadOnlyDictionary<string, StandbyPosition> standbys)
    {
        QuorumResult result = SyncQuorum.Evaluate(_policy, standbys);
        SyncSet = result.SyncSet;
        bool degrade = !result.Enough && _whenTooFew == TooFewStandbysBehavior.DegradeToAsync;
        if (degrade != _degraded)
        {
            Volatile.Write(ref _degraded, degrade);
            if (degrade)
            {
                _logger.LogWarning(
                    "Replication: only {Connected} of the {Required} synchronous standbys '{Policy}' requires are connected; commits are acknowledged WITHOUT them (DegradeToAsync) until enough are back.",
                    result.SyncSet.Count, _policy.Count, _policy);
                _degradedTransition();
            }
            else
            {
                _logger.LogWarning("Replication: enough synchronous standbys for '{Policy}' are connected again; commits wait for them.", _policy);
            }
        }

        if (result.Enough)
        {
            _confirmed.SetOpen(false);
            _confirmed.Advance(result.ConfirmedLsn, mayLower: true);
        }
        else
        {
            _confirmed.SetOpen(degrade);
            if (!degrade)
            {
                _confirmed.Advance(0, mayLower: true); // nothing is confirmed without a full set: a commit arriving now waits
            }
        }
    }

    /// <summary>
    /// Fails every waiting and later commit wait with the WAL's <paramref name="failure"/>: commits wait here before
    /// their local acknowledgement, and a failed WAL ships nothing more that a standby could confirm.
    /// </summary>
    public void WalFailed(WalFailedException failure) => _confirmed.Fail(failure);

    /// <summary>Fails every waiting and later commit wait with <see cref="ObjectDisposedException"/> (the replicator stopped).</summary>
    public void Close() => _confirmed.Fail(new ObjectDisposedException(nameof(WalReplicator), "The replicator stopped; the write is committed locally but its standbys' confirmation will never come."));
}
