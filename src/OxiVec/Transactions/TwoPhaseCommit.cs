using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OxiVec.Transactions;

/// <summary>
/// The coordinator of distributed transactions over <see cref="ITransactionParticipant"/>s (the guide's
/// <c>TwoPhaseCommit</c>, PostgreSQL's PREPARE TRANSACTION / COMMIT PREPARED driven from outside): a transaction
/// commits on every participant or on none, whichever of them (coordinator included) crashes between the phases.
/// </summary>
/// <remarks>
/// <para>The coordinator owns a small decision log in its own directory (see <see cref="Open"/>). A transaction's
/// begin record (gid, participants) is durable before any prepare is sent, and its commit record before any commit is
/// sent; a transaction without a commit record rolls back (presumed abort). Every prepare carries
/// <see cref="CoordinatorId"/>, so recovery finds the participants' in-doubt transactions that belong to it.</para>
/// <para>After a crash, open the same directory with the same coordinator id and call <see cref="RecoverAsync"/> with
/// every participant: logged commits are re-driven, everything else of this coordinator is rolled back. A participant
/// never decides alone: its prepared transactions wait for this recovery (or an operator's <c>oxivec tx commit|rollback</c>).</para>
/// <para>Thread safe: several transactions may commit at once (their log records share fsyncs).</para>
/// </remarks>
public sealed partial class TwoPhaseCommit : IDisposable
{
    /// <summary>The longest coordinator id, in UTF-8 bytes (a generated gid appends 33 characters to it; gids are at most 200 bytes).</summary>
    public const int MaxCoordinatorIdBytes = 160;

    private readonly TwoPhaseCommitLog _log;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal); // under _lock: gids a call of this object is driving
    private int _disposed;

    private TwoPhaseCommit(TwoPhaseCommitLog log, string coordinatorId, TwoPhaseCommitOptions options, ILogger logger)
    {
        _log = log;
        CoordinatorId = coordinatorId;
        Options = options;
        _logger = logger;
    }

    /// <summary>This coordinator's id, recorded with every prepare it sends.</summary>
    public string CoordinatorId { get; }

    /// <summary>The settings it was opened with.</summary>
    public TwoPhaseCommitOptions Options { get; }

    /// <summary>The decision log's directory.</summary>
    public string Directory => _log.Directory;

    /// <summary>
    /// Gids begun and not yet acknowledged by every participant (in flight here, or left by a crash for
    /// <see cref="RecoverAsync"/>), oldest first.
    /// </summary>
    public IReadOnlyList<string> PendingTransactions => [.. _log.Pending().Select(p => p.Gid)];

    /// <summary>Bytes of live decision-log records (it is trimmed as transactions end).</summary>
    public long LogSizeBytes => _log.SizeBytes;

    /// <summary>
    /// Opens (or creates) the coordinator whose decision log is in <paramref name="directory"/>. One process at a time
    /// (the log is locked). Call <see cref="RecoverAsync"/> before relying on participants' in-doubt transactions.
    /// </summary>
    /// <param name="directory">The decision log's directory (a WAL of its own: never a database's).</param>
    /// <param name="coordinatorId">This coordinator's stable id: recovery rolls back the participants' in-doubt
    /// transactions carrying it that its log does not know. Printable, 1 to <see cref="MaxCoordinatorIdBytes"/> UTF-8 bytes;
    /// unique among the coordinators sharing a participant.</param>
    /// <param name="options">The settings; <see cref="TwoPhaseCommitOptions.Default"/> when null.</param>
    /// <param name="logger">Receives resends and recovery; none by default.</param>
    /// <exception cref="ArgumentException">The coordinator id is invalid.</exception>
    /// <exception cref="Wal.WalLockedException">Another process has the log open.</exception>
    /// <exception cref="Wal.WalCorruptionException">The log is damaged (other than a torn last write, which is cut).</exception>
    public static TwoPhaseCommit Open(string directory, string coordinatorId, TwoPhaseCommitOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        PreparedTransactionGid.Validate(coordinatorId, nameof(coordinatorId));
        if (Encoding.UTF8.GetByteCount(coordinatorId) > MaxCoordinatorIdBytes)
        {
            throw new ArgumentException($"A coordinator id must be at most {MaxCoordinatorIdBytes} UTF-8 bytes.", nameof(coordinatorId));
        }

        return new TwoPhaseCommit(TwoPhaseCommitLog.Open(directory, logger), coordinatorId, options ?? TwoPhaseCommitOptions.Default, logger ?? NullLogger.Instance);
    }

    /// <summary>Begins a transaction with <paramref name="gid"/>, or with a new gid (<c>{CoordinatorId}:{guid}</c>) when null.</summary>
    /// <exception cref="ArgumentException">The gid is empty, longer than 200 UTF-8 bytes or not printable.</exception>
    public DistributedTransaction Begin(string? gid = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        gid ??= $"{CoordinatorId}:{Guid.NewGuid():N}";
        PreparedTransactionGid.Validate(gid);
        return new DistributedTransaction(this, gid);
    }

    /// <summary>Deletes the decision log's segments that hold only ended transactions (also done every 64 ends).</summary>
    public void TrimLog()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _log.Trim();
    }

    /// <summary>Writes and fsyncs the log's last records and closes it. Transactions still running fail; recovery finishes them.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _log.Dispose();
        }
    }

    /// <summary>Marks <paramref name="gid"/> as driven by a call of this object; false when one already drives it.</summary>
    private bool TryClaim(string gid)
    {
        lock (_lock)
        {
            return _inFlight.Add(gid);
        }
    }

    private void Release(string gid)
    {
        lock (_lock)
        {
            _inFlight.Remove(gid);
        }
    }

    private void Notify(TwoPhaseCommitStep step) => Options.Observer?.OnStep(step);
}
