using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Indexing;
using OxiVec.Internal;
using OxiVec.Storage.Checkpoints;
using OxiVec.Storage.Versions;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>
/// A durable vector store (the guide's <c>VectorStore</c>): named collections of records (id, float32 vector,
/// typed metadata) searched by exact or HNSW indexes. Every write follows the guide's path: validate, append to
/// the WAL, sync per policy, apply to the in-memory index, acknowledge. Reads never touch the WAL. Opening replays
/// the WAL, so a crash loses nothing that was acknowledged.
/// </summary>
/// <remarks>
/// Thread safe. Writes are validated and logged in one order (their LSN order) and applied in that order, so a
/// write that returned is visible to every later read. After a WAL failure the database refuses writes
/// (<see cref="WalFailedException"/>) and keeps serving reads of what was acknowledged.
/// </remarks>
public sealed partial class VectorDatabase : IDisposable, IAsyncDisposable
{
    private readonly WalManager _wal;
    private readonly ILogger _logger;
    private readonly StoreInstrumentation _instrumentation;
    private readonly ConcurrentDictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly ReadVersions _versions = new(); // the version searches read at: the last commit applied in full

    // Logical state: what the store holds once every logged write is applied. Guarded by _writeLock.
    private readonly Lock _writeLock = new();
    private readonly Dictionary<string, LogicalCollection> _logical = new(StringComparer.Ordinal);

    // Logged writes not yet applied, in LSN order. Enqueued under _writeLock, applied under _applyLock.
    private readonly ApplyQueue _toApply = new();
    private readonly Lock _applyLock = new();

    /// <summary>Where single writes copy their vector until it is applied (see <see cref="PendingWrite.AcceptLent"/>).</summary>
    private readonly VectorCopyPool _vectorCopies = new();
    private Exception? _failure; // the WAL's or an apply's failure: set once, read with Volatile (writes, checkpoints)
    private Exception? _applyFailure; // guarded by _applyLock: nothing after it is applied
    private int _disposed;

    // Checkpoints: one at a time; _appliedLsn is the last store operation applied (guarded by _applyLock).
    private readonly Lock _checkpointLock = new();
    private readonly WalConfig _walConfig;
    private readonly TimeProvider _time;
    private long _appliedLsn;
    private long _checkpointSequence;
    private long _opsSinceCheckpoint;
    private long _automaticCheckpointNotBefore; // a Stopwatch timestamp
    private Task _backgroundCheckpoint = Task.CompletedTask;
    private readonly ICheckpointStorage _checkpointStorage;

    private VectorDatabase(
        string dataDirectory, WalManager wal, ILogger logger, StoreInstrumentation instrumentation, TimeProvider time, ICheckpointStorage checkpointStorage)
    {
        DataDirectory = dataDirectory;
        _checkpointStorage = checkpointStorage;
        _time = time;
        _wal = wal;
        _walConfig = wal.Config;
        _logger = logger;
        _instrumentation = instrumentation;
    }

    /// <summary>The data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>What opening replayed.</summary>
    public RecoveryStats Recovery { get; private set; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>The most recent checkpoint written or loaded, or null.</summary>
    public CheckpointInfo? LastCheckpoint { get; private set; }

    private string CheckpointRoot => Path.Combine(DataDirectory, CheckpointFiles.DirectoryName);

    /// <summary>The WAL's open report (segments, torn tail cut, aborted transaction).</summary>
    public WalOpenReport WalOpenReport => _wal.OpenReport;

    /// <summary>
    /// Opens (or creates) the database in <paramref name="dataDirectory"/> and replays its WAL.
    /// </summary>
    /// <exception cref="WalLockedException">Another process has the database open.</exception>
    /// <exception cref="WalCorruptionException">The WAL is damaged other than by a torn last write.</exception>
    /// <exception cref="InvalidDataException">A logged record cannot be applied (a bug or a foreign WAL).</exception>
    public static VectorDatabase Open(string dataDirectory, VectorDatabaseOptions? options = null) => Open(dataDirectory, options, walStorage: null);

    /// <summary>
    /// Opens with the WAL on <paramref name="walStorage"/> and the checkpoints on <paramref name="checkpointStorage"/>
    /// (tests inject a fault-injecting disk); null means the file system.
    /// </summary>
    internal static VectorDatabase Open(
        string dataDirectory, VectorDatabaseOptions? options, IWalStorage? walStorage, ICheckpointStorage? checkpointStorage = null, StandbyRole? standby = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        options ??= new VectorDatabaseOptions();
        string data = Path.GetFullPath(dataDirectory);
        DurableFiles.CreateDirectoryDurably(data); // the data directory survives a power loss with what is put in it
        ILoggerFactory loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        WalConfig walConfig = options.Wal with { WalDir = options.WalDirectory ?? Path.Combine(data, "wal") };
        TimeProvider time = options.TimeProvider ?? TimeProvider.System;
        long start = time.GetTimestamp(); // MaxRecoveryTimeMs counts from here, on the database's clock
        if (walStorage is null)
        {
            RefuseCheckpointsWithoutWal(data, walConfig.WalDir);
            walStorage = new FileSystemWalStorage(walConfig.WalDir, walConfig.MemoryMappedSegments);
        }

        // The newest checkpoint's LSN lets the WAL accept a hole that an interrupted retention left below it.
        long? newestCheckpointLsn = CheckpointFiles.List(Path.Combine(data, CheckpointFiles.DirectoryName), removeHalfBuilt: false).FirstOrDefault()?.CoveredLsn;
        WalManager wal = WalManager.Open(
            walStorage, walConfig, loggers.CreateLogger<WalManager>(), options.TimeProvider, options.MeterFactory, options.SkipCorruptedEntries,
            newestCheckpointLsn, standby: standby is not null);
        var instrumentation = new StoreInstrumentation(options.MeterFactory, data);
        var database = new VectorDatabase(data, wal, loggers.CreateLogger<VectorDatabase>(), instrumentation, time,
            checkpointStorage ?? FileSystemCheckpointStorage.Instance)
        {
            _standby = standby,
            _preparedWarningAge = options.PreparedTransactionWarningAge,
        };
        try
        {
            database.Replay(start, options);
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>Creates a collection.</summary>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOperationException">A collection with that name exists.</exception>
    public void CreateCollection(string name, CollectionOptions options)
    {
        StoreNames.ValidateCollectionName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(options);
        Finish(Stage([new StoreOperation.Create(name, options)], null));
    }

    /// <summary>Drops a collection and its records. Returns false when there is no such collection.</summary>
    public bool DropCollection(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ThrowIfStandby();
        lock (_writeLock)
        {
            if (!_logical.ContainsKey(name))
            {
                return false;
            }
        }

        Finish(Stage([new StoreOperation.Drop(name)], null));
        return true;
    }

    /// <summary>The collections with their options and record counts.</summary>
    public IReadOnlyList<CollectionInfo> ListCollections() =>
        [.. _collections.Values.OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => new CollectionInfo(c.Name, c.Options, c.Count))];

    /// <summary>One collection's options and record count.</summary>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    public CollectionInfo GetCollection(string name)
    {
        Collection c = Find(name);
        return new CollectionInfo(c.Name, c.Options, c.Count);
    }

    /// <summary>True when the collection exists.</summary>
    public bool CollectionExists(string name) => _collections.ContainsKey(name);

    /// <summary>Inserts a record; the id must be new in the collection. Returns its LSN.</summary>
    /// <exception cref="ArgumentException">Bad id, wrong dimension, NaN or infinity; nothing is written.</exception>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    /// <exception cref="InvalidOperationException">The id exists (use <see cref="Upsert"/> to replace).</exception>
    public long Insert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        WriteOne(PendingWrite.AcceptLent(_vectorCopies, WriteKind.Insert, collection, id, vector, metadata));

    /// <summary>Inserts a record or replaces the one with the same id. Returns its LSN.</summary>
    public long Upsert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        WriteOne(PendingWrite.AcceptLent(_vectorCopies, WriteKind.Upsert, collection, id, vector, metadata));

    /// <summary>Replaces an existing record. Returns its LSN.</summary>
    /// <exception cref="KeyNotFoundException">No such collection or record.</exception>
    public long Update(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        WriteOne(PendingWrite.AcceptLent(_vectorCopies, WriteKind.Update, collection, id, vector, metadata));

    /// <summary>Deletes a record. Returns false (and logs nothing) when it does not exist.</summary>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    public bool Delete(string collection, string id)
    {
        try
        {
            WriteOne(PendingWrite.Accept(WriteKind.Delete, collection, id, default, null));
            return true;
        }
        catch (RecordNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Inserts many records atomically (one WAL transaction, one fsync). Returns the commit LSN.</summary>
    public long InsertBatch(string collection, IEnumerable<VectorRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return Write([.. records.Select(r => PendingWrite.Accept(WriteKind.Insert, collection, r.Id, r.Vector, r.Metadata))]);
    }

    /// <summary>Asynchronous <see cref="Insert"/>.</summary>
    public ValueTask<long> InsertAsync(
        string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null, CancellationToken cancellationToken = default) =>
        WriteOneAsync(PendingWrite.AcceptLent(_vectorCopies, WriteKind.Insert, collection, id, vector, metadata), cancellationToken);

    /// <summary>Asynchronous <see cref="Upsert"/>.</summary>
    public ValueTask<long> UpsertAsync(
        string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null, CancellationToken cancellationToken = default) =>
        WriteOneAsync(PendingWrite.AcceptLent(_vectorCopies, WriteKind.Upsert, collection, id, vector, metadata), cancellationToken);

    /// <summary>Starts a transaction spanning any collections.</summary>
    public VectorTransaction BeginTransaction() => new(this);

    /// <summary>The record with <paramref name="id"/>, or null.</summary>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    public VectorRecord? Get(string collection, string id) => Find(collection).Get(id);

    /// <summary>Records in the collection.</summary>
    public int Count(string collection) => Find(collection).Count;

    /// <summary>
    /// One page of the collection in <see cref="RecordIdOrder"/>: the first <paramref name="limit"/> records matching
    /// <paramref name="filter"/> (null: all) whose id is <paramref name="fromId"/> or after it (null: from the
    /// start). Reads at one published version, like <see cref="Search"/>: it sees every commit up to it in full and
    /// none after, and waits for no write. To page on, pass the id after the last one returned, or ask for
    /// <paramref name="limit"/> + 1 records and pass the extra one's id. O(n log limit) per page.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is below 1.</exception>
    public IReadOnlyList<VectorRecord> Scroll(string collection, MetadataFilter? filter, string? fromId, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Find(collection).Scroll(filter, fromId, limit);
    }

    /// <summary>The exact number of records matching <paramref name="filter"/> (null: all), at one published version.</summary>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    public long Count(string collection, MetadataFilter? filter) => Find(collection).CountMatching(filter);

    /// <summary>
    /// The ids of the records matching <paramref name="filter"/>, at one published version: the first
    /// <paramref name="max"/> in <see cref="RecordIdOrder"/> (for deleting or updating by filter in bounded steps).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such collection.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is below 1.</exception>
    public IReadOnlyList<string> FindIds(string collection, MetadataFilter filter, int max)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        return Find(collection).FindIds(filter, max);
    }

    /// <summary>Every record of the collection, sorted by id.</summary>
    public IReadOnlyList<VectorRecord> Export(string collection) => Find(collection).Snapshot();

    /// <summary>
    /// The <paramref name="k"/> records closest to <paramref name="query"/> by the collection's metric, best first,
    /// among those matching the filter (evaluated inside the index search: k results whenever k records match).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong dimension, NaN or infinity in the query.</exception>
    public IReadOnlyList<SearchResult> Search(string collection, ReadOnlySpan<float> query, int k, VectorSearchOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        Collection c = Find(collection);
        VectorMath.Validate(c.Options.Metric, c.Options.Dimension, query, nameof(query));
        long start = Stopwatch.GetTimestamp();
        List<SearchResult> results = c.Search(query, k, options ?? new VectorSearchOptions());
        _instrumentation.Searched(Stopwatch.GetElapsedTime(start));
        return results;
    }

    /// <summary>
    /// Applies one WAL entry to this database as a new, logged write (the guide's <c>apply_entry</c>, for manual
    /// recovery): inserts and updates upsert, deletes remove the record when present, collection entries create or
    /// drop the collection when needed; checkpoint and transaction markers and unknown custom entries change nothing.
    /// Returns true when the entry changed the database.
    /// </summary>
    /// <exception cref="ArgumentException">The entry's vector does not fit its collection.</exception>
    /// <exception cref="KeyNotFoundException">The entry's collection does not exist.</exception>
    public bool ApplyEntry(WalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ThrowIfStandby();
        switch (entry)
        {
            case WalEntry.Insert i:
                Upsert(i.Collection, i.Id, i.Vector, MetadataCodec.Decode(i.Metadata.Span));
                return true;
            case WalEntry.Update u:
                Upsert(u.Collection, u.Id, u.Vector, MetadataCodec.Decode(u.Metadata.Span));
                return true;
            case WalEntry.Delete d:
                return Delete(d.Collection, d.Id);
            case WalEntry.Custom { Operation: SchemaOperations.CreateCollection } c:
                (string name, CollectionOptions options) = SchemaOperations.ReadCreate(c.Payload.Span);
                if (CollectionExists(name))
                {
                    return false;
                }

                CreateCollection(name, options);
                return true;
            case WalEntry.Custom { Operation: SchemaOperations.DropCollection } c:
                return DropCollection(SchemaOperations.ReadDrop(c.Payload.Span));
            default:
                return false;
        }
    }

    /// <summary>The WAL's metrics.</summary>
    public WalMetrics GetWalMetrics() => _wal.GetMetrics();

    /// <summary>The WAL's health against the guide's thresholds.</summary>
    /// <remarks>Also warns of prepared transactions in doubt for longer than <see cref="VectorDatabaseOptions.PreparedTransactionWarningAge"/>.</remarks>
    public WalHealthReport CheckHealth() => WithPreparedTransactionFindings(_wal.CheckHealth());

    /// <summary>
    /// fsyncs everything logged so far and makes it visible to reads (including writes whose callers cancelled their
    /// wait). On a primary whose commits wait for synchronous standbys, a write becomes visible only once they have
    /// confirmed it (it is applied then, in the background): Sync fsyncs it but does not bypass that wait.
    /// </summary>
    /// <exception cref="WalFailedException">The WAL, or applying a logged write, failed.</exception>
    public void Sync()
    {
        long logged = _wal.LastLsn;
        try
        {
            _wal.Sync();
        }
        catch (WalFailedException ex)
        {
            Failed(ex);
            throw;
        }

        if (CommitGate is null)
        {
            ApplyUpTo(logged);
        }
    }

    /// <summary>
    /// Closes the WAL (fsyncing what is pending) and releases the directory. A barrier for checkpoints: one running
    /// (manual or automatic) is waited for, none starts afterwards, and the WAL is closed and its lock released even
    /// when a checkpoint failed.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Task background;
            lock (_checkpointLock)
            {
                // A manual checkpoint holds this lock while it runs; checkpoints start under it only while not disposed.
                background = _backgroundCheckpoint;
            }

            background.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
        {
            _logger.LogError(ex, "A background checkpoint failed while the database closed.");
        }
        finally
        {
            try
            {
                _wal.Dispose();
            }
            finally
            {
                foreach (Collection c in _collections.Values)
                {
                    c.Dispose();
                }

                _appliedWaiters.Fail(new ObjectDisposedException(nameof(VectorDatabase), $"The database in '{DataDirectory}' was closed."));
                _instrumentation.Dispose();
            }
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    internal long Write(IReadOnlyList<PendingWrite> writes) => Finish(Stage(null, Validate(writes)));

    internal ValueTask<long> WriteAsync(IReadOnlyList<PendingWrite> writes, CancellationToken cancellationToken) =>
        FinishAsync(Stage(null, Validate(writes)), cancellationToken);

    /// <summary>
    /// <see cref="Write"/> of one write (every single insert, upsert, update and delete): the same steps, with no
    /// arrays for the writes, their operations or their WAL entries, and a single-entry WAL append.
    /// </summary>
    private long WriteOne(PendingWrite write) => Finish(StageOne(write, ValidateOne(write)));

    /// <summary>Asynchronous <see cref="WriteOne"/>.</summary>
    private ValueTask<long> WriteOneAsync(PendingWrite write, CancellationToken cancellationToken) =>
        FinishAsync(StageOne(write, ValidateOne(write)), cancellationToken);

    /// <summary>Checks what can be checked without the logical state: ids, vectors (dimension, finite), metadata encoding.</summary>
    private static (PendingWrite Write, byte[] Metadata)[] Validate(IReadOnlyList<PendingWrite> writes)
    {
        if (writes.Count == 0)
        {
            throw new ArgumentException("There is nothing to write.", nameof(writes));
        }

        var validated = new (PendingWrite, byte[])[writes.Count];
        for (int i = 0; i < validated.Length; i++)
        {
            validated[i] = (writes[i], ValidateOne(writes[i]));
        }

        return validated;
    }

    /// <summary><see cref="Validate"/> of one write; returns its encoded metadata.</summary>
    private static byte[] ValidateOne(PendingWrite w)
    {
        StoreNames.ValidateCollectionName(w.Collection, "collection");
        StoreNames.ValidateId(w.Id, "id");
        return w.Kind == WriteKind.Delete ? [] : MetadataCodec.Encode(w.Metadata);
    }

    /// <summary>
    /// Resolves writes against the logical state into operations (insert vs replace, existence checks, vector
    /// checks against the collection's dimension and metric), simulating them in order so a transaction may touch
    /// the same id twice. Throws before anything is logged.
    /// </summary>
    private StoreOperation[] ResolveLocked((PendingWrite Write, byte[] Metadata)[] writes)
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "resolution reads the logical state");
        // What earlier writes of the same transaction did to an id; a single write has none (and allocates none).
        Dictionary<(string, string), bool>? overlay = writes.Length > 1 ? [] : null;
        var operations = new StoreOperation[writes.Length];
        for (int i = 0; i < writes.Length; i++)
        {
            (PendingWrite w, byte[] metadata) = writes[i];
            operations[i] = ResolveOneLocked(w, metadata, overlay);
        }

        return operations;
    }

    /// <summary>
    /// Resolves one write (see <see cref="ResolveLocked"/>); <paramref name="overlay"/> holds what earlier writes of
    /// the same transaction did, and records what this one does (null for a single write).
    /// </summary>
    private StoreOperation ResolveOneLocked(PendingWrite w, byte[] metadata, Dictionary<(string, string), bool>? overlay)
    {
        bool exists = CheckOneLocked(w, overlay);
        return w.Kind == WriteKind.Delete
            ? new StoreOperation.Remove(w.Collection, w.Id)
            : new StoreOperation.Put(w.Collection, w.Id, w.Vector, w.Metadata, metadata, IsNew: !exists);
    }

    /// <summary>
    /// The checks of <see cref="ResolveOneLocked"/>, with no operation made: throws when the write cannot be logged,
    /// records what it does in <paramref name="overlay"/>, and returns whether the record existed before it.
    /// </summary>
    private bool CheckOneLocked(PendingWrite w, Dictionary<(string, string), bool>? overlay) => CheckOneLocked(w, overlay, out _);

    /// <summary><see cref="CheckOneLocked(PendingWrite, Dictionary{ValueTuple{string, string}, bool}?)"/>, giving the write's logical collection.</summary>
    private bool CheckOneLocked(PendingWrite w, Dictionary<(string, string), bool>? overlay, out LogicalCollection collection)
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "resolution reads the logical state");
        if (!_logical.TryGetValue(w.Collection, out collection!))
        {
            throw new KeyNotFoundException($"Collection '{w.Collection}' does not exist.");
        }

        if (_logicalTransactions.Reservations.Count > 0
            && _logicalTransactions.Reservations.TryGetValue((w.Collection, w.Id), out string? holder))
        {
            throw new OxiVec.Transactions.TransactionConflictException(w.Collection, w.Id, holder);
        }

        bool exists = overlay is not null && overlay.TryGetValue((w.Collection, w.Id), out bool staged) ? staged : ExistsLocked(w.Collection, collection, w.Id);
        switch (w.Kind)
        {
            case WriteKind.Insert when exists:
                throw new InvalidOperationException($"Record '{w.Id}' already exists in collection '{w.Collection}'; use Upsert or Update to replace it.");
            case WriteKind.Update when !exists:
            case WriteKind.Delete when !exists:
                throw new RecordNotFoundException(w.Collection, w.Id);
            case WriteKind.Delete:
                overlay?[(w.Collection, w.Id)] = false;
                return exists;
            default:
                break;
        }

        VectorMath.Validate(collection.Options.Metric, collection.Options.Dimension, w.Vector, "vector");
        overlay?[(w.Collection, w.Id)] = true;
        return exists;
    }

    /// <summary>
    /// <see cref="Stage"/> of one write: checked and logged (a single-entry append, written at once when it can be)
    /// under the write lock, then queued for application as the write itself. No operation or WAL entry object is
    /// made: an insert or update is encoded from its fields (<see cref="VectorPayload"/>), and the queue holds the
    /// accepted write (a struct), so what a write allocates is what the store keeps of it.
    /// </summary>
    private Staged StageOne(PendingWrite write, byte[] metadata)
    {
        long start = BeginStage();
        lock (_writeLock)
        {
            CheckWritableLocked();
            bool exists = CheckOneLocked(write, overlay: null, out LogicalCollection collection);
            bool put = write.Kind != WriteKind.Delete;
            long lsn;
            long appendedAt = 0;
            try
            {
                lsn = put
                    ? _wal.AppendSingleUnacknowledged(new VectorPayload(insert: !exists, write.Collection, write.Id, write.Vector, metadata), out appendedAt)
                    : _wal.AppendSingleUnacknowledged(new WalEntry.Delete(write.Collection, write.Id));
            }
            catch (WalFailedException ex)
            {
                RecordWalFailure(ex);
                throw;
            }

            collection.Unapplied.Record(write.Id, exists: put, lsn, Volatile.Read(ref _appliedLsn));

            // The lent vector goes back to the pool once applied (see Stage). The applied collection, when its
            // creation is applied, is this write's until a drop logged after it is applied: no lookup at the apply.
            _toApply.Enqueue(new PendingApply(lsn, null, write.VectorIsLent ? write.Vector : null, write, collection.Store));
            return new Staged(lsn, 1, start, Durable: false, appendedAt);
        }
    }

    /// <summary>
    /// First half of the write path: resolve and log under the write lock, so LSN order is validation order, then
    /// queue the operations for application. Nothing is logged when resolution throws.
    /// </summary>
    private Staged Stage(IReadOnlyList<StoreOperation>? schema, (PendingWrite Write, byte[] Metadata)[]? writes, Func<StoreOperation[]>? resolve = null)
    {
        long start = BeginStage();
        lock (_writeLock)
        {
            CheckWritableLocked();
            StoreOperation[] operations = resolve is not null ? resolve() : schema is not null ? ResolveSchemaLocked(schema) : ResolveLocked(writes!);
            var entries = new WalEntry[operations.Length];
            for (int i = 0; i < entries.Length; i++)
            {
                entries[i] = ToEntry(operations[i]);
            }

            long lsn = LogLocked(null, entries);
            foreach (StoreOperation operation in operations)
            {
                ApplyLogical(operation, lsn);
            }

            // A single write's lent vector goes back to the pool once applied: the collection and its index copy it,
            // the WAL record was encoded above, and nothing else keeps the operation (a prepared transaction's
            // writes, which outlive the apply, are never lent).
            float[]? lent = writes is [{ Write.VectorIsLent: true } single] ? single.Write.Vector : null;
            _toApply.Enqueue(new PendingApply(lsn, operations, lent));
            // A prepare, commit or rollback of a global transaction is fsynced whatever the sync policy: a coordinator acts on the answer.
            bool durable = operations is [StoreOperation.Prepare or StoreOperation.CommitPrepared or StoreOperation.RollbackPrepared];
            return new Staged(lsn, entries.Length, start, durable);
        }
    }

    /// <summary>What both stages do before the write lock: refuse when closed or a standby; returns the write's start timestamp.</summary>
    private long BeginStage()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfStandby();
        return Stopwatch.GetTimestamp();
    }

    /// <summary>What both stages check first under the write lock: no earlier failure, and the write fence lets the write be logged.</summary>
    private void CheckWritableLocked()
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "checked where the write is logged");
        ThrowIfFailed();
        CheckFenceBeforeAppend();
    }

    /// <summary>
    /// Logs one entry (<paramref name="single"/>, a single-entry append) or <paramref name="entries"/> (a transaction
    /// when more than one); returns the last LSN. A WAL failure fails the database before it is rethrown.
    /// </summary>
    private long LogLocked(WalEntry? single, WalEntry[]? entries)
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "LSN order is resolution order");
        try
        {
            return single is not null ? _wal.AppendSingleUnacknowledged(single) : _wal.AppendUnacknowledged(entries!, transactional: entries!.Length > 1);
        }
        catch (WalFailedException ex)
        {
            RecordWalFailure(ex);
            throw;
        }
    }

    /// <summary>Records a WAL failure met while logging under the write lock as the database's failure (the first one wins); the caller rethrows.</summary>
    private void RecordWalFailure(WalFailedException ex) => Interlocked.CompareExchange(ref _failure, ex.InnerException ?? ex, null);

    /// <summary>Second half: wait per sync policy, then apply in LSN order and acknowledge.</summary>
    private long Finish(Staged staged)
    {
        try
        {
            _wal.WaitAcknowledged(staged.Lsn, endsWithCheckpoint: false, staged.Start, staged.Durable, staged.AppendedAt);
        }
        catch (WalFailedException ex)
        {
            Failed(ex);
            throw;
        }

        if (CommitGate is { } gate)
        {
            try
            {
                gate.WaitConfirmedAsync(staged.Lsn).GetAwaiter().GetResult();
            }
            catch (ObjectDisposedException)
            {
                ApplyUpTo(staged.Lsn); // the replicator stopped: the write is committed locally and becomes visible
                throw;
            }
        }

        return CheckFenceBeforeAcknowledging(Applied(staged));
    }

    private async ValueTask<long> FinishAsync(Staged staged, CancellationToken cancellationToken)
    {
        try
        {
            if (CommitGate is { } gate)
            {
                await WaitAcknowledgedAndConfirmedAsync(gate, staged, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _wal.WaitAcknowledgedAsync(staged.Lsn, endsWithCheckpoint: false, staged.Start, cancellationToken, staged.Durable).ConfigureAwait(false);
            }
        }
        catch (WalFailedException ex)
        {
            Failed(ex);
            throw;
        }
        catch (ObjectDisposedException) when (CommitGate is not null && Volatile.Read(ref _disposed) == 0)
        {
            ApplyUpTo(staged.Lsn); // the replicator stopped: the write is committed locally and becomes visible
            throw;
        }
        catch (OperationCanceledException)
        {
            // The write is logged and in the logical state: it must become visible as soon as it is durable, not
            // whenever some later write happens to drain the queue (Insert would say "exists" while Get finds nothing).
            ApplyWhenAcknowledgedInBackground(staged);
            throw;
        }

        return CheckFenceBeforeAcknowledging(Applied(staged));
    }

    /// <summary>Finishes a write whose caller stopped waiting: waits (uncancellably) until it is acknowledged, then applies it.</summary>
    private void ApplyWhenAcknowledgedInBackground(Staged staged) => _ = Task.Run(async () =>
    {
        try
        {
            await _wal.WaitAcknowledgedAsync(staged.Lsn, endsWithCheckpoint: false, staged.Start, CancellationToken.None, staged.Durable).ConfigureAwait(false);
            await WaitConfirmedOrStoppedAsync(staged.Lsn).ConfigureAwait(false);
            ApplyUpTo(staged.Lsn);
        }
        catch (Exception ex) when (Volatile.Read(ref _disposed) != 0 && ex is ObjectDisposedException or WalFailedException)
        {
            // The database closed first: closing the WAL made the write durable, and reopening applies it.
            _logger.LogDebug(ex, "A cancelled write was not applied before the database closed; reopening applies it.");
        }
        catch (WalFailedException ex)
        {
            Failed(ex);
        }
    });

    private long Applied(Staged staged)
    {
        ApplyUpTo(staged.Lsn);
        _instrumentation.Wrote(staged.Records, staged.Start);
        MaybeCheckpointInBackground(staged.Records);
        return staged.Lsn;
    }

    /// <summary>Logged but maybe not durable: the logical state may be ahead of the disk, so stop taking writes.</summary>
    private void Failed(WalFailedException ex)
    {
        RecordWalFailure(ex);

        _logger.LogCritical(ex, "The WAL failed; the database refuses writes until it is reopened.");
    }

    private StoreOperation[] ResolveSchemaLocked(IReadOnlyList<StoreOperation> schema)
    {
        foreach (StoreOperation operation in schema)
        {
            switch (operation)
            {
                case StoreOperation.Create c when _logical.ContainsKey(c.Collection):
                    throw new InvalidOperationException($"Collection '{c.Collection}' already exists.");
                case StoreOperation.Drop d when !_logical.ContainsKey(d.Collection):
                    throw new KeyNotFoundException($"Collection '{d.Collection}' does not exist.");
                case StoreOperation.Drop d when _logicalTransactions.GidWriting(d.Collection) is { } gid:
                    throw new OxiVec.Transactions.TransactionConflictException(d.Collection, gid);
                default:
                    break;
            }
        }

        return [.. schema];
    }

    /// <summary>
    /// Applies every logged operation up to <paramref name="lsn"/> (all durable by now), in LSN order, each commit's
    /// operations visible together. An operation is dequeued only once applied; if applying throws, the database
    /// fails (like a WAL failure): the store may hold part of that commit, so this and every later write and
    /// checkpoint throw <see cref="WalFailedException"/>, while reads go on.
    /// </summary>
    /// <exception cref="WalFailedException">Applying failed, here or in an earlier call, before <paramref name="lsn"/> was applied.</exception>
    private void ApplyUpTo(long lsn)
    {
        lock (_applyLock)
        {
            while (_appliedLsn < lsn && _toApply.TryPeek(out PendingApply pending) && pending.Lsn <= lsn)
            {
                ThrowIfApplyFailed();
                try
                {
                    if (pending.Operations is null)
                    {
                        ApplySingle(pending.Single, pending.Store, pending.Lsn); // a single write: a put or a remove
                    }
                    else
                    {
                        ApplyTogether(pending.Operations, pending.Lsn);
                    }
                }
                catch (Exception ex)
                {
                    var failure = new InvalidOperationException(
                        $"Applying the logged write at LSN {pending.Lsn} to the in-memory store failed ({ex.Message}); it is in the WAL and is applied when the database is reopened.", ex);
                    _applyFailure = failure;
                    Interlocked.CompareExchange(ref _failure, failure, null);
                    _logger.LogCritical(ex, "Applying LSN {Lsn} failed; the database refuses writes and checkpoints until it is reopened.", pending.Lsn);
                    throw new WalFailedException(_wal.Directory, failure);
                }

                _toApply.Dequeue();
                if (pending.LentVector is { } lent)
                {
                    _vectorCopies.Return(lent); // applied: the store holds its own copy (not returned when applying threw)
                }

                Volatile.Write(ref _appliedLsn, pending.Lsn);
                _appliedWaiters.Advance(pending.Lsn);
            }

            if (_appliedLsn < lsn)
            {
                ThrowIfApplyFailed(); // an earlier apply failed and left this one unapplied
            }
        }
    }

    private void ThrowIfApplyFailed()
    {
        Debug.Assert(_applyLock.IsHeldByCurrentThread, "_applyFailure is guarded by _applyLock");
        if (_applyFailure is { } failure)
        {
            throw new WalFailedException(_wal.Directory, failure);
        }
    }

    /// <summary>Throws <see cref="WalFailedException"/> once the WAL or an apply has failed.</summary>
    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new WalFailedException(_wal.Directory, failure);
        }
    }

    /// <summary>
    /// Applies one commit at version <paramref name="lsn"/> in two phases. First every put is written into a hidden
    /// slot and added to its index (no lock readers wait for); then, under the catalog locks of the collections
    /// touched (in name order, held only for the catalog updates), the commit's versions are stamped; then the
    /// database-wide version is published with one volatile write. A search reads at one published version, so it
    /// sees the whole commit or none of it, in every collection, and never waits for it; Get, Contains and Count see
    /// a commit's changes to one collection together.
    /// </summary>
    private void ApplyTogether(IReadOnlyList<StoreOperation> operations, long lsn)
    {
        if (ApplyTransactionStep(operations, lsn))
        {
            return;
        }

        if (operations is [StoreOperation.Create or StoreOperation.Drop])
        {
            Apply(operations[0]);
            _versions.Publish(lsn);
            return;
        }

        if (operations is [StoreOperation.Put or StoreOperation.Remove])
        {
            ApplyOne(operations[0], lsn);
            return;
        }

        var prepared = new (Collection Collection, StoreOperation Operation, int Slot)[operations.Count];
        var touched = new List<Collection>(1);
        for (int i = 0; i < operations.Count; i++)
        {
            StoreOperation operation = operations[i];
            FaultInjector?.Invoke(operation);
            Collection c = operation switch
            {
                StoreOperation.Put p => _collections[p.Collection],
                StoreOperation.Remove r => _collections[r.Collection],
                _ => throw new InvalidOperationException($"A schema change ({operation.GetType().Name}) cannot be part of a transaction."),
            };
            if (!touched.Contains(c))
            {
                touched.Add(c);
            }

            int slot = operation is StoreOperation.Put put ? c.Prepare(put.Id, put.Vector, FrozenMetadata.Of(put.Metadata)) : -1;
            prepared[i] = (c, operation, slot);
        }

        touched.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        int entered = 0;
        try
        {
            foreach (Collection c in touched)
            {
                c.EnterCatalog();
                entered++;
            }

            foreach ((Collection c, StoreOperation operation, int slot) in prepared)
            {
                if (operation is StoreOperation.Put p)
                {
                    c.CommitPutLocked(p.Id, slot, lsn);
                }
                else
                {
                    c.CommitRemoveLocked(((StoreOperation.Remove)operation).Id, lsn);
                }
            }

            _versions.Publish(lsn);
        }
        finally
        {
            for (int i = entered - 1; i >= 0; i--)
            {
                touched[i].ExitCatalog();
            }
        }

        foreach (Collection c in touched)
        {
            c.ReclaimRetired(); // slots no running search can see leave the index now, not at the next write
        }
    }

    /// <summary>
    /// <see cref="ApplyTogether"/> for a commit of one put or remove (every single write): the same two phases, with no
    /// per-commit list of collections to sort and lock.
    /// </summary>
    private void ApplyOne(StoreOperation operation, long lsn)
    {
        FaultInjector?.Invoke(operation);
        if (operation is StoreOperation.Put put)
        {
            ApplyOne(_collections[put.Collection], put.Id, put.Vector, FrozenMetadata.Of(put.Metadata), lsn);
        }
        else
        {
            var remove = (StoreOperation.Remove)operation;
            ApplyOne(_collections[remove.Collection], remove.Id, vector: null, metadata: null, lsn);
        }
    }

    /// <summary><see cref="ApplyOne(StoreOperation, long)"/> of a single write as it was accepted (queued by <see cref="StageOne"/>).</summary>
    private void ApplySingle(in PendingWrite write, Collection? store, long lsn)
    {
        bool put = write.Kind != WriteKind.Delete;
        if (FaultInjector is { } inject)
        {
            // Made only for the tests' injector; IsNew and the encoded metadata are not kept past the log.
            inject(put
                ? new StoreOperation.Put(write.Collection, write.Id, write.Vector, write.Metadata, [], IsNew: write.Kind == WriteKind.Insert)
                : new StoreOperation.Remove(write.Collection, write.Id));
        }

        ApplyOne(store ?? _collections[write.Collection], write.Id, put ? write.Vector : null, put ? write.Metadata : null, lsn);
    }

    /// <summary>Applies a put (<paramref name="vector"/> not null) or a remove of <paramref name="id"/> as the commit at <paramref name="lsn"/>.</summary>
    private void ApplyOne(Collection c, string id, float[]? vector, FrozenMetadata? metadata, long lsn)
    {
        int slot = vector is not null ? c.Prepare(id, vector, metadata!) : -1;
        c.EnterCatalog();
        try
        {
            if (vector is not null)
            {
                c.CommitPutLocked(id, slot, lsn);
            }
            else
            {
                c.CommitRemoveLocked(id, lsn);
            }

            _versions.Publish(lsn);
        }
        finally
        {
            c.ExitCatalog();
        }

        c.ReclaimRetired(); // slots no running search can see leave the index now, not at the next write
    }

    /// <summary>Tests only: called before each operation is applied; an exception it throws is an apply failure.</summary>
    internal Action<StoreOperation>? FaultInjector { get; set; }

    private void ApplyLogical(StoreOperation operation, long lsn)
    {
        switch (operation)
        {
            case StoreOperation.Prepare or StoreOperation.CommitPrepared or StoreOperation.RollbackPrepared:
                ApplyLogicalTransaction(operation, lsn);
                break;
            case StoreOperation.Put p:
                _logical[p.Collection].Unapplied.Record(p.Id, exists: true, lsn, Volatile.Read(ref _appliedLsn));
                break;
            case StoreOperation.Remove r:
                _logical[r.Collection].Unapplied.Record(r.Id, exists: false, lsn, Volatile.Read(ref _appliedLsn));
                break;
            case StoreOperation.Create c:
                _logical[c.Collection] = new LogicalCollection(c.Options, createdLsn: lsn);
                break;
            case StoreOperation.Drop d:
                _logical.Remove(d.Collection);
                break;
        }
    }

    private void Apply(StoreOperation operation)
    {
        FaultInjector?.Invoke(operation);
        switch (operation)
        {
            case StoreOperation.Create c:
                _collections[c.Collection] = new Collection(c.Collection, c.Options, versions: _versions);
                break;
            case StoreOperation.Drop d:
                // Not disposed: a search may still be running on it; it is collected when the last one ends.
                _collections.TryRemove(d.Collection, out _);
                break;
        }
    }

    private static WalEntry ToEntry(StoreOperation operation) => operation switch
    {
        StoreOperation.Put { IsNew: true } p => new WalEntry.Insert(p.Collection, p.Id, p.Vector, p.EncodedMetadata),
        StoreOperation.Put p => new WalEntry.Update(p.Collection, p.Id, p.Vector, p.EncodedMetadata),
        StoreOperation.Remove r => new WalEntry.Delete(r.Collection, r.Id),
        StoreOperation.Create c => SchemaOperations.Create(c.Collection, c.Options),
        StoreOperation.Drop d => SchemaOperations.Drop(d.Collection),
        StoreOperation.Prepare p => new WalEntry.PrepareTransaction(p.Entry.Gid, p.Entry.Payload),
        StoreOperation.CommitPrepared c => new WalEntry.CommitPrepared(c.Gid),
        StoreOperation.RollbackPrepared r => new WalEntry.RollbackPrepared(r.Gid),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    private LogicalCollection RequireCollection(string name) =>
        _logical.TryGetValue(name, out LogicalCollection? c) ? c : throw new KeyNotFoundException($"collection '{name}' does not exist at this point of the log");

    private Collection Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _collections.TryGetValue(name, out Collection? c) ? c : throw new KeyNotFoundException($"Collection '{name}' does not exist.");
    }

    /// <summary>
    /// A write logged and queued for application, as its writer waits for it (a struct: one object fewer per write).
    /// <paramref name="Records"/>: the store operations it logged (no checkpoint record among them).
    /// <paramref name="AppendedAt"/>: the append's <see cref="Stopwatch"/> timestamp for a single insert or update (0
    /// otherwise), at which an acknowledgement that waits for nothing is timed.
    /// </summary>
    private readonly record struct Staged(long Lsn, int Records, long Start, bool Durable, long AppendedAt = 0);

    /// <summary>
    /// Whether record <paramref name="id"/> exists in <paramref name="collection"/> (named <paramref name="name"/>) once
    /// every logged write is applied: as its newest unapplied write left it, or else as the applied store holds it
    /// (see <see cref="UnappliedIds"/>). Before the collection's creation is applied it holds only unapplied writes.
    /// </summary>
    private bool ExistsLocked(string name, LogicalCollection collection, string id)
    {
        if (collection.Unapplied.TryGet(id, out bool exists))
        {
            return exists;
        }

        Collection? store = collection.Store;
        if (store is null)
        {
            if (Volatile.Read(ref _appliedLsn) < collection.CreatedLsn)
            {
                return false; // its creation is not applied yet: every write of it is unapplied, and none is of this id
            }

            // Its creation is applied and no drop of it is logged (it would no longer be in the logical state): the
            // applied collection of that name is this one, from now on.
            store = collection.Store = _collections[name];
        }

        return store.Contains(id);
    }

    /// <summary>
    /// A collection in the logical state: its options, the LSN of the record that created it (0: restored from a
    /// checkpoint), the applied collection once its creation is applied (found on first use), and its unapplied writes.
    /// Its ids are the applied collection's with the unapplied writes over them (<see cref="ExistsLocked"/>).
    /// </summary>
    private sealed class LogicalCollection(CollectionOptions options, long createdLsn)
    {
        public CollectionOptions Options { get; } = options;

        public long CreatedLsn { get; } = createdLsn;

        public Collection? Store { get; set; }

        public UnappliedIds Unapplied { get; } = new();
    }
}

/// <summary>A record the operation needs does not exist.</summary>
public sealed class RecordNotFoundException : KeyNotFoundException
{
    /// <summary>Creates the exception for <paramref name="id"/> in <paramref name="collection"/>.</summary>
    public RecordNotFoundException(string collection, string id)
        : base($"Record '{id}' does not exist in collection '{collection}'.")
    {
        Collection = collection;
        Id = id;
    }

    /// <summary>The collection.</summary>
    public string Collection { get; }

    /// <summary>The missing id.</summary>
    public string Id { get; }
}
