using System.Globalization;
using System.Text;
using OxiVec.Cli.Data;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.CrashWorker;

/// <summary>
/// The workload of <c>crash-torture-worker</c>: a random mix of everything a database does, run by several
/// writer threads at once, deterministic from a seed so that a checker can rebuild the exact state after any number of
/// each writer's operations. Writer <c>w</c>'s operation <c>n</c> (1, 2, ...) is chosen by <see cref="Next"/> from
/// (seed, w, n) and that writer's state before it (which of its ids exist), and is one of:
/// a single insert, upsert, update or delete; a transaction of 2 to 8 such writes spanning two or three collections
/// (the same id may come twice); an atomic batch of 2 to 6 inserts; a manual checkpoint; or the drop or re-creation of
/// collection <see cref="Transient"/> (writer 0 only).
/// </summary>
/// <remarks>
/// Writer <c>w</c>'s ids are <c>w{w}k0</c> .. <c>w{w}k{KeySpace-1}</c> in each collection, so the store stays small
/// however long the run and each writer's records depend on its own operations only; <see cref="Transient"/> is
/// written, dropped and re-created by writer 0 alone. A record written by operation <c>n</c> has metadata <c>{"op": n, "pad": "ppp..."}</c> (a pad of 0 to 199 characters, now and then up to 12,000,
/// to vary record sizes) and the vector <see cref="Vector"/>(seed, n, collection, id).
/// </remarks>
internal static class TortureWorkload
{
    /// <summary>HNSW, Euclidean, dimension 16; always there once created.</summary>
    public const string Hnsw = "t0";

    /// <summary>Flat, dot product, dimension 40; always there once created.</summary>
    public const string Flat = "t1";

    /// <summary>HNSW, Euclidean, dimension 8: dropped and re-created now and then.</summary>
    public const string Transient = "t2";

    /// <summary>Ids per collection.</summary>
    public const int KeySpace = 40;

    public static IReadOnlyList<string> CollectionNames { get; } = [Hnsw, Flat, Transient];

    public enum OpKind
    {
        Single,
        Transaction,
        Batch,
        Checkpoint,
        Create,
        Drop,
    }

    public enum WriteKind
    {
        Insert,
        Upsert,
        Update,
        Delete,
    }

    /// <summary>One write: <c>+t0/k3</c> insert, <c>~t0/k3</c> upsert, <c>=t0/k3</c> update, <c>-t0/k3</c> delete.</summary>
    public readonly record struct Write(WriteKind Kind, string Collection, string Id)
    {
        public override string ToString() => Kind switch
        {
            WriteKind.Insert => "+",
            WriteKind.Upsert => "~",
            WriteKind.Update => "=",
            _ => "-",
        } + Collection + "/" + Id;
    }

    /// <summary>Operation <paramref name="N"/>.</summary>
    public sealed record Op(long N, OpKind Kind, IReadOnlyList<Write> Writes, string? Collection = null)
    {
        /// <summary>What the worker prints after <c>ack {n}</c>: <c>tx +t0/k3 -t1/k9</c>, <c>checkpoint</c>, <c>drop t2</c>...</summary>
        public string Describe() => Kind switch
        {
            OpKind.Checkpoint => "checkpoint",
            OpKind.Create => "create " + Collection,
            OpKind.Drop => "drop " + Collection,
            OpKind.Single => "write " + Writes[0],
            OpKind.Transaction => "tx " + string.Join(' ', Writes),
            _ => "batch " + string.Join(' ', Writes),
        };

        /// <summary>The word the worker prints in <c>begin {n} {kind}</c>.</summary>
        public string KindName => Kind.ToString().ToLowerInvariant();
    }

    /// <summary>The store's state as the workload sees it: which collections exist, and per id the operation that wrote it last.</summary>
    public sealed class State
    {
        private readonly SortedDictionary<string, SortedDictionary<string, long>> _collections = new(StringComparer.Ordinal);

        public IEnumerable<string> Collections => _collections.Keys;

        public bool HasCollection(string collection) => _collections.ContainsKey(collection);

        /// <summary>The records of a collection: id -> the operation that wrote it last.</summary>
        public IReadOnlyDictionary<string, long> Records(string collection) => _collections[collection];

        public bool Exists(string collection, string id) => _collections.TryGetValue(collection, out var records) && records.ContainsKey(id);

        public void AddCollection(string collection) => _collections.Add(collection, new SortedDictionary<string, long>(StringComparer.Ordinal));

        /// <summary>Records that <paramref name="id"/> in <paramref name="collection"/> was last written by operation <paramref name="op"/>.</summary>
        public void Set(string collection, string id, long op) => _collections[collection][id] = op;

        public State Clone()
        {
            var copy = new State();
            foreach ((string name, SortedDictionary<string, long> records) in _collections)
            {
                copy._collections.Add(name, new SortedDictionary<string, long>(records, StringComparer.Ordinal));
            }

            return copy;
        }

        /// <summary>The state after <paramref name="op"/>.</summary>
        public void Apply(Op op)
        {
            switch (op.Kind)
            {
                case OpKind.Create:
                    AddCollection(op.Collection!);
                    break;
                case OpKind.Drop:
                    _collections.Remove(op.Collection!);
                    break;
                case OpKind.Checkpoint:
                    break;
                default:
                    foreach (Write w in op.Writes)
                    {
                        if (w.Kind == WriteKind.Delete)
                        {
                            _collections[w.Collection].Remove(w.Id);
                        }
                        else
                        {
                            _collections[w.Collection][w.Id] = op.N;
                        }
                    }

                    break;
            }
        }

        /// <summary>The first difference from <paramref name="other"/>, or null when both hold the same.</summary>
        public string? Difference(State other)
        {
            foreach (string name in _collections.Keys.Union(other._collections.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (!_collections.TryGetValue(name, out var mine))
                {
                    return $"collection {name} exists only in the other";
                }

                if (!other._collections.TryGetValue(name, out var theirs))
                {
                    return $"collection {name} exists only in this one";
                }

                foreach (string id in mine.Keys.Union(theirs.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
                {
                    bool inMine = mine.TryGetValue(id, out long a), inTheirs = theirs.TryGetValue(id, out long b);
                    if (inMine != inTheirs || a != b)
                    {
                        return $"{name}/{id}: {(inMine ? $"written by op {a}" : "absent")} here, {(inTheirs ? $"written by op {b}" : "absent")} in the other";
                    }
                }
            }

            return null;
        }

        public override string ToString() =>
            string.Join(", ", _collections.Select(c => $"{c.Key}: {c.Value.Count} records"));
    }

    public static CollectionOptions Options(string collection) => collection switch
    {
        Hnsw => new CollectionOptions(16)
        {
            Metric = DistanceMetric.Euclidean,
            Index = IndexKind.Hnsw,
            Hnsw = new HnswParameters { M = 6, EfConstruction = 24, EfSearch = 24 },
        },
        Flat => new CollectionOptions(40) { Metric = DistanceMetric.DotProduct, Index = IndexKind.Flat },
        _ => new CollectionOptions(8)
        {
            Metric = DistanceMetric.Euclidean,
            Index = IndexKind.Hnsw,
            Hnsw = new HnswParameters { M = 4, EfConstruction = 16, EfSearch = 16 },
        },
    };

    /// <summary>
    /// The WAL settings of the worker: fsync per commit, small segments (so rotations are frequent), only the newest
    /// checkpoint kept (so checkpoints and segments are deleted at every checkpoint), and every sealed segment
    /// compressed at each checkpoint.
    /// </summary>
    public static WalConfig WalConfig(long segmentSizeBytes, int checkpointInterval) => OxiVec.Wal.WalConfig.Default with
    {
        SyncIntervalMs = 0,
        SegmentSizeBytes = segmentSizeBytes,
        MaxWalSize = 256L << 20,
        RetentionPolicy = RetentionPolicy.KeepLast(1),
        EnableCompression = true,
        CompressionThresholdAgeHours = 0,
        CheckpointInterval = checkpointInterval,
    };

    /// <summary>Writer <paramref name="writer"/>'s operation <paramref name="n"/>, given its state after its operations 1 .. n-1.</summary>
    public static Op Next(long seed, int writer, long n, State state)
    {
        var random = new Draws(seed + (writer * 0x1_0000_0001L), n);
        foreach (string required in (string[])[Hnsw, Flat])
        {
            if (!state.HasCollection(required))
            {
                return new Op(n, OpKind.Create, [], required);
            }
        }

        if (writer == 0 && !state.HasCollection(Transient) && random.Below(8) == 0)
        {
            return new Op(n, OpKind.Create, [], Transient);
        }

        int roll = random.Below(100);
        if (roll < 4)
        {
            return new Op(n, OpKind.Checkpoint, []);
        }

        if (roll < 6 && writer == 0 && state.HasCollection(Transient))
        {
            return new Op(n, OpKind.Drop, [], Transient);
        }

        string[] collections = [.. state.Collections];
        var overlay = new Dictionary<(string, string), bool>();
        bool Exists(string c, string id) => overlay.TryGetValue((c, id), out bool staged) ? staged : state.Exists(c, id);

        if (roll >= 84 && Batch(random, writer, n, collections, Exists) is { } batch)
        {
            return batch;
        }

        if (roll < 42)
        {
            return new Op(n, OpKind.Single, [RandomWrite(random, writer, collections[random.Below(collections.Length)], Exists)]);
        }

        // A transaction: its first two writes go to two different collections, the rest anywhere.
        int count = 2 + random.Below(7);
        int first = random.Below(collections.Length);
        var writes = new List<Write>(count);
        for (int i = 0; i < count; i++)
        {
            string collection = i < 2 ? collections[(first + i) % collections.Length] : collections[random.Below(collections.Length)];
            Write write = RandomWrite(random, writer, collection, Exists);
            overlay[(write.Collection, write.Id)] = write.Kind != WriteKind.Delete;
            writes.Add(write);
        }

        return new Op(n, OpKind.Transaction, writes);
    }

    /// <summary>An insert (or upsert) of an absent id, or an upsert, update or delete of an existing one.</summary>
    private static Write RandomWrite(Draws random, int writer, string collection, Func<string, string, bool> exists)
    {
        string id = Id(writer, random.Below(KeySpace));
        int roll = random.Below(100);
        if (!exists(collection, id))
        {
            return new Write(roll < 75 ? WriteKind.Insert : WriteKind.Upsert, collection, id);
        }

        return new Write(roll < 50 ? WriteKind.Upsert : roll < 70 ? WriteKind.Update : WriteKind.Delete, collection, id);
    }

    /// <summary>2 to 6 inserts of absent ids into one collection, or null when too few ids are absent.</summary>
    private static Op? Batch(Draws random, int writer, long n, string[] collections, Func<string, string, bool> exists)
    {
        string collection = collections[random.Below(collections.Length)];
        int wanted = 2 + random.Below(5);
        int start = random.Below(KeySpace);
        var writes = new List<Write>(wanted);
        for (int i = 0; i < KeySpace && writes.Count < wanted; i++)
        {
            string id = Id(writer, (start + (i * 7)) % KeySpace); // 7 is prime to KeySpace: every id once
            if (!exists(collection, id))
            {
                writes.Add(new Write(WriteKind.Insert, collection, id));
            }
        }

        return writes.Count >= 2 ? new Op(n, OpKind.Batch, writes) : null;
    }

    /// <summary>Writer <paramref name="writer"/>'s id number <paramref name="key"/>: <c>w{writer}k{key}</c>.</summary>
    public static string Id(int writer, int key) => string.Create(CultureInfo.InvariantCulture, $"w{writer}k{key}");

    /// <summary>The writer that owns <paramref name="id"/> (see <see cref="Id"/>), or -1 when it is not a workload id.</summary>
    public static int WriterOf(string id)
    {
        int k = id.IndexOf('k', StringComparison.Ordinal);
        return id.StartsWith('w') && k > 1 && int.TryParse(id.AsSpan(1, k - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int w) ? w : -1;
    }

    /// <summary>The vector of <paramref name="id"/> in <paramref name="collection"/> as written by operation <paramref name="n"/>.</summary>
    public static float[] Vector(long seed, long n, string collection, string id) =>
        DeterministicVectors.Vector(seed ^ (long)Hash(collection + "/" + id), n, Options(collection).Dimension);

    /// <summary>The metadata of a record written by operation <paramref name="n"/>: <c>{"op": n, "pad": ...}</c>.</summary>
    public static Dictionary<string, MetadataValue> Metadata(long n, string collection, string id) => new(StringComparer.Ordinal)
    {
        ["op"] = n,
        ["pad"] = Pad(n, collection, id),
    };

    /// <summary>
    /// The pad of a record written by operation <paramref name="n"/>: 0 to 199 characters, or for one record in eight
    /// up to 12,000 (so that group commits write several pages at once, which a kill can cut, and transactions
    /// straddle segment boundaries).
    /// </summary>
    public static string Pad(long n, string collection, string id)
    {
        ulong h = DeterministicVectors.Mix(Hash(collection + "/" + id) ^ (ulong)n);
        return new('p', (int)(h % 8 == 0 ? (h >> 3) % 12_000 : h % 200));
    }

    /// <summary>FNV-1a over the UTF-8 bytes.</summary>
    private static ulong Hash(string text)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }

    /// <summary>A SplitMix64 stream seeded from (seed, n).</summary>
    private sealed class Draws(long seed, long n)
    {
        private ulong _state = DeterministicVectors.Mix(DeterministicVectors.Mix((ulong)seed ^ 0x7041_7041UL) ^ (ulong)n);

        public int Below(int bound)
        {
            _state += 0x9E3779B97F4A7C15UL;
            return (int)(DeterministicVectors.Mix(_state) % (ulong)bound);
        }
    }
}
