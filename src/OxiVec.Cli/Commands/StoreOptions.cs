using System.CommandLine;
using System.Globalization;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>The options the database commands share, and how they open a database and find or plan a collection.</summary>
internal static class StoreOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "The data directory (its WAL is in DIR/wal unless --wal says otherwise).",
        Required = true,
        HelpName = "DIR",
    };

    public static Option<string?> Wal() => new("--wal")
    {
        Description = "The WAL directory, when it is not DIR/wal (e.g. on a separate fast disk).",
        HelpName = "DIR",
    };

    public static Option<string> Collection(string description = "The collection.") => new("--collection")
    {
        Description = description,
        Required = true,
        HelpName = "NAME",
    };

    public static Option<string?> Metric()
    {
        var option = new Option<string?>("--metric")
        {
            Description = "Distance metric of a new collection: cosine (default), dot or l2. For an existing one it must match, or be left out.",
            HelpName = "cosine|dot|l2",
        };
        option.AcceptOnlyFromAmong("cosine", "dot", "l2");
        return option;
    }

    public static Option<string?> Index()
    {
        var option = new Option<string?>("--index")
        {
            Description = "Index of a new collection: hnsw (default, approximate) or flat (exact). For an existing one it must match, or be left out.",
            HelpName = "flat|hnsw",
        };
        option.AcceptOnlyFromAmong("flat", "hnsw");
        return option;
    }

    public static Option<int?> HnswM() => new("--hnsw-m")
    {
        Description = $"HNSW links per node of a new collection (default {new HnswParameters().M}).",
        HelpName = "M",
    };

    public static Option<int?> EfConstruction() => new("--ef-construction")
    {
        Description = $"HNSW build beam width of a new collection (default {new HnswParameters().EfConstruction}).",
        HelpName = "N",
    };

    public static Option<int?> EfSearch() => new("--ef-search")
    {
        Description = $"HNSW default search beam width of a new collection (default {new HnswParameters().EfSearch}).",
        HelpName = "N",
    };

    public static Option<int> Batch(int defaultValue, string description) => new("--batch")
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        HelpName = "B",
    };

    /// <summary>The metric's option name: <c>cosine</c>, <c>dot</c>, <c>l2</c>.</summary>
    public static string MetricName(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "cosine",
        DistanceMetric.DotProduct => "dot",
        DistanceMetric.Euclidean => "l2",
        _ => metric.ToString().ToLowerInvariant(),
    };

    /// <summary>The index's option name: <c>flat</c>, <c>hnsw</c>.</summary>
    public static string IndexName(IndexKind index) => index.ToString().ToLowerInvariant();

    /// <summary>
    /// Opens the database. With <paramref name="create"/> false (commands that only read), a data directory that does not
    /// exist or holds no WAL is an error (exit code 1) rather than a new, empty database.
    /// </summary>
    /// <remarks>
    /// A data directory holding checkpoints but no WAL (typically a database whose WAL is elsewhere, opened without
    /// <c>--wal</c>) is refused for every command: the engine would open it with a new WAL and lose writes.
    /// </remarks>
    /// <exception cref="CliException">The directory does not exist or holds no database, or has checkpoints but no WAL.</exception>
    /// <exception cref="WalLockedException">Another process has the database open.</exception>
    public static VectorDatabase Open(string data, string? wal, WalConfig config, bool create)
    {
        Check(data, wal, create);
        return VectorDatabase.Open(data, new VectorDatabaseOptions { Wal = config, WalDirectory = wal });
    }

    /// <summary>
    /// The checks <see cref="Open"/> makes before opening, for commands that open the database otherwise
    /// (<c>recover</c> goes through the engine's <c>CrashRecoveryManager</c>): the data directory exists and holds a
    /// WAL (unless <paramref name="create"/>), and does not hold checkpoints without a WAL.
    /// </summary>
    /// <exception cref="CliException">The directory does not exist or holds no database, or has checkpoints but no WAL.</exception>
    public static void Check(string data, string? wal, bool create)
    {
        if (File.Exists(data))
        {
            throw new CliException($"'{data}' is a file; --data takes a directory.");
        }

        if (wal is not null && File.Exists(wal))
        {
            throw new CliException($"'{wal}' is a file; --wal takes a directory.");
        }

        string walDir = wal ?? Path.Combine(data, "wal");
        bool hasWal = Directory.Exists(walDir) && Directory.EnumerateFiles(walDir, "*.wal").Any();
        string checkpoints = Path.Combine(data, "checkpoints");
        if (!hasWal && Directory.Exists(checkpoints) && Directory.EnumerateFileSystemEntries(checkpoints).Any())
        {
            // The engine would open from the checkpoint with a new WAL whose LSNs restart at 1, below the checkpoint's:
            // the writes logged after the checkpoint would be missing, and new writes would be skipped by the next
            // recovery (acknowledged, then lost). The usual cause is a forgotten --wal.
            throw new CliException(
                $"'{data}' holds checkpoints but '{walDir}' holds no WAL{(wal is null ? "; if the database's WAL is elsewhere, pass --wal" : "")}. " +
                "Opening it with a new WAL would lose the writes logged after the newest checkpoint, so it is refused.");
        }

        if (!create)
        {
            if (!Directory.Exists(data))
            {
                throw new CliException($"data directory '{data}' does not exist.");
            }

            if (!hasWal)
            {
                throw new CliException(
                    $"'{data}' holds no OxiVec database: no WAL segment files in '{walDir}'. Create one with '{OxiVecCli.Name} load' or '{OxiVecCli.Name} import'" +
                    (wal is null ? ", or pass --wal if its WAL is elsewhere." : "."));
            }
        }
    }

    /// <summary>The collection's info; exit code 1 naming the collections there are when it does not exist.</summary>
    public static CollectionInfo RequireCollection(VectorDatabase database, string name)
    {
        if (database.CollectionExists(name))
        {
            return database.GetCollection(name);
        }

        IReadOnlyList<CollectionInfo> all = database.ListCollections();
        throw new CliException(
            $"collection '{name}' does not exist in '{database.DataDirectory}'; " +
            (all.Count == 0 ? "it has no collections." : $"it has: {string.Join(", ", all.Select(c => c.Name))}."));
    }

    /// <summary>An <see cref="ArgumentException"/>'s message on one line, without the " (Parameter 'x')" part.</summary>
    public static string Describe(ArgumentException ex)
    {
        string message = ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal);
        return message.ReplaceLineEndings(" ");
    }

    public static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>What the user asked for a collection that may not exist yet (null: not given, use the default or the existing value).</summary>
internal sealed record CollectionRequest(string? Metric, string? Index, int? M, int? EfConstruction, int? EfSearch)
{
    /// <summary>
    /// The collection that writes of vectors with <paramref name="dimension"/> components go to: the existing one, after
    /// checking that it has that dimension and the options given, or the one to create (<see cref="PlannedCollection.Exists"/>
    /// false; nothing is created yet).
    /// </summary>
    /// <param name="dimensionSource">Where the dimension comes from, as a phrase for messages: "--dim is 5", "'x.npy' has dimension 5".</param>
    /// <exception cref="CliException">The collection exists with another shape, or an option is out of range.</exception>
    public PlannedCollection Plan(VectorDatabase database, string name, int dimension, string dimensionSource)
    {
        if (database.CollectionExists(name))
        {
            CollectionOptions existing = database.GetCollection(name).Options;
            if (existing.Dimension != dimension)
            {
                throw new CliException(
                    $"collection '{name}' has dimension {existing.Dimension}, but {dimensionSource}; " +
                    $"write vectors of dimension {existing.Dimension} to it, or use another --collection.");
            }

            Mismatch("--metric", Metric, StoreOptions.MetricName(existing.Metric));
            Mismatch("--index", Index, StoreOptions.IndexName(existing.Index));
            if (existing.Index == IndexKind.Hnsw)
            {
                Mismatch("--hnsw-m", M?.ToString(CultureInfo.InvariantCulture), existing.Hnsw.M.ToString(CultureInfo.InvariantCulture));
                Mismatch("--ef-construction", EfConstruction?.ToString(CultureInfo.InvariantCulture), existing.Hnsw.EfConstruction.ToString(CultureInfo.InvariantCulture));
                Mismatch("--ef-search", EfSearch?.ToString(CultureInfo.InvariantCulture), existing.Hnsw.EfSearch.ToString(CultureInfo.InvariantCulture));
            }

            return new PlannedCollection(name, existing, Exists: true);

            void Mismatch(string option, string? given, string actual)
            {
                if (given is not null && given != actual)
                {
                    throw new CliException(
                        $"collection '{name}' exists with {option} {actual}, not {given}; leave {option} out to write to it, or use another --collection.");
                }
            }
        }

        try
        {
            var defaults = new HnswParameters();
            var options = new CollectionOptions(dimension)
            {
                Metric = Metric switch
                {
                    null or "cosine" => DistanceMetric.Cosine,
                    "dot" => DistanceMetric.DotProduct,
                    _ => DistanceMetric.Euclidean,
                },
                Index = Index == "flat" ? IndexKind.Flat : IndexKind.Hnsw,
                Hnsw = new HnswParameters
                {
                    M = M ?? defaults.M,
                    EfConstruction = EfConstruction ?? defaults.EfConstruction,
                    EfSearch = EfSearch ?? defaults.EfSearch,
                },
            };
            return new PlannedCollection(name, options, Exists: false);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliException($"invalid collection option: {StoreOptions.Describe(ex)}", ex);
        }
    }
}

/// <summary>A collection that exists, or will be created by <see cref="CreateIfMissing"/>.</summary>
internal sealed record PlannedCollection(string Name, CollectionOptions Options, bool Exists)
{
    /// <summary>Creates the collection unless it exists; returns true when it created it.</summary>
    /// <exception cref="CliException">The name is invalid.</exception>
    public bool CreateIfMissing(VectorDatabase database)
    {
        if (Exists || database.CollectionExists(Name))
        {
            return false;
        }

        try
        {
            database.CreateCollection(Name, Options);
            return true;
        }
        catch (ArgumentException ex)
        {
            throw new CliException($"cannot create collection '{Name}': {StoreOptions.Describe(ex)}", ex);
        }
    }

    /// <summary>"dimension 128, cosine, hnsw (M 16, efConstruction 200, efSearch 64)".</summary>
    public string Describe() => Describe(Options);

    public static string Describe(CollectionOptions o) =>
        $"dimension {o.Dimension}, {StoreOptions.MetricName(o.Metric)}, {StoreOptions.IndexName(o.Index)}" +
        (o.Index == IndexKind.Hnsw ? $" (M {o.Hnsw.M}, efConstruction {o.Hnsw.EfConstruction}, efSearch {o.Hnsw.EfSearch})" : "");
}
