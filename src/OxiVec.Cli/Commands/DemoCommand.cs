using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OxiVec.Cli.Data;
using OxiVec.Cli.Demo;
using OxiVec.Cli.Output;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec demo</c>: the one-minute story for a newcomer, in a temporary directory removed afterwards. The WAL at
/// work (group commit, a transaction, its metrics); then a database: a collection of 20,000 clustered articles loaded
/// behind a progress bar, a filtered search; then a loader process (<c>oxivec load --print-acks</c>) killed with
/// SIGKILL mid-load, the database reopened, every acknowledged record checked, the recovery statistics shown.
/// Exit code 0 when everything acknowledged survived, 2 when something did not.
/// </summary>
internal static class DemoCommand
{
    private const int Writers = 4;
    private const int InsertsPerWriter = 500;
    private const int Articles = 20_000;
    private const int ArticleBatch = 500;
    private const string ArticlesCollection = "articles";
    private const string EventsCollection = "events";
    private const int EventsBatch = 100;
    private const long EventsSeed = 7;
    private const string QueryTopic = "science";
    private const string QueryFilter = "tags = \"space\" and year >= 2022";
    private const int K = 5;
    private static readonly TimeSpan LoadFor = TimeSpan.FromSeconds(1.5);

    public static Command Create()
    {
        var command = new Command(
            "demo",
            "A one-minute tour: the WAL's group commit, a collection loaded and searched with a filter, then a loader process killed with SIGKILL and every acknowledged record recovered.");
        command.SetAction((_, cancellationToken) => RunAsync(cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        DemoView view = DemoView.Create();
        string dir = Path.Combine(Path.GetTempPath(), "oxivec-demo-" + Guid.NewGuid().ToString("n")[..12]);
        try
        {
            return await TellAsync(view, dir, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
                view.Say($"Removed {dir}.");
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException ex)
            {
                view.Failure($"Could not remove {dir}: {ex.Message}");
            }
        }
    }

    private static async Task<int> TellAsync(DemoView view, string dir, CancellationToken cancellationToken)
    {
        view.Title("OxiVec: a durable vector database in one minute");
        view.Say(
            "Every change is appended to a write-ahead log (WAL) before it is applied, so a crash loses nothing that was " +
            $"acknowledged. Let's watch it, in a temporary directory: {dir}");

        view.Step(1, "The write-ahead log");
        await ShowWalAsync(view, Path.Combine(dir, "wal-tour")).ConfigureAwait(false);

        string data = Path.Combine(dir, "db");
        IReadOnlyList<SearchResult> before;
        view.Step(2, "Create a collection and load 20,000 articles");
        using (VectorDatabase database = VectorDatabase.Open(data))
        {
            LoadArticles(view, database);

            view.Step(3, "Search with a filter");
            before = Search(view, database, show: true);
        }

        view.Step(4, "Crash a loader for real");
        view.Say(
            $"A child process runs 'oxivec load' on the same database: records v0, v1, ... into collection '{EventsCollection}', " +
            $"in atomic batches of {EventsBatch}, printing 'ack v<i>' once a batch is committed and fsynced. Then it gets SIGKILL: " +
            "no shutdown, no final flush, no goodbye.");
        var load = new LoadCommand.Settings(
            data, null, EventsCollection, DemoArticles.Dimension, Count: 100_000_000, Start: 0, EventsBatch,
            new CollectionRequest("cosine", "flat", null, null, null), SyncIntervalMs: 0, WalConfig.Default.CheckpointInterval, EventsSeed, PrintAcks: true);
        ChildLoader.Run run = await view.StatusAsync(
            "Starting the loader", status => ChildLoader.LoadAndKillAsync(load, LoadFor, status, cancellationToken)).ConfigureAwait(false);
        if (run.Error is not null)
        {
            view.Failure(run.Error);
            return ExitCodes.InternalError;
        }

        view.Success($"Killed loader process {run.ProcessId} with SIGKILL (exit code {run.ExitCode}) after {run.Acks.Count:N0} acknowledged records.");

        view.Step(5, "Reopen: recovery");
        view.Say(
            $"Opening loads the newest checkpoint (a snapshot the database writes every {WalConfig.Default.CheckpointInterval:N0} operations) " +
            "and replays the WAL after it. A write cut short by the kill was never acknowledged, so it is cut off; a transaction " +
            "without its commit record is discarded.");
        var clock = Stopwatch.StartNew();
        using VectorDatabase recovered = await view.StatusAsync("Opening the database", _ => Task.FromResult(VectorDatabase.Open(data))).ConfigureAwait(false);
        clock.Stop();
        ShowRecovery(view, recovered, clock.Elapsed);
        return Check(view, recovered, run, before);
    }

    private static async Task ShowWalAsync(DemoView view, string walDir)
    {
        view.Say(
            "With SyncIntervalMs = 0 an append returns only after an fsync covers it; appends that arrive together share " +
            "one fsync (group commit). 4 writers append 500 vectors each, then one transaction commits 3 changes at once.");
        using WalManager wal = WalManager.Open(WalConfig.MaximumDurability with { WalDir = walDir });
        int inserts = Writers * InsertsPerWriter;
        var burst = Stopwatch.StartNew();
        await view.StatusAsync($"Appending {inserts:N0} vectors from {Writers} writers", async _ =>
        {
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; i < InsertsPerWriter; i++)
                    {
                        long n = (w * InsertsPerWriter) + i;
                        wal.LogInsert("docs", $"doc-{n}", DeterministicVectors.Vector(42, n, DemoArticles.Dimension));
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default))];
            await Task.WhenAll(writers).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        burst.Stop();

        long commit;
        using (WalTransaction tx = wal.BeginTransaction())
        {
            tx.LogInsert("docs", "doc-new", DeterministicVectors.Vector(42, -1, DemoArticles.Dimension));
            tx.LogUpdate("docs", "doc-1", DeterministicVectors.Vector(42, -2, DemoArticles.Dimension));
            tx.LogDelete("docs", "doc-2");
            commit = tx.Commit();
        }

        WalMetrics m = wal.GetMetrics();
        int commits = inserts + 1;
        view.Success(
            $"{inserts:N0} inserts acknowledged in {burst.Elapsed.TotalSeconds:F2} s ({inserts / burst.Elapsed.TotalSeconds:N0}/s), " +
            $"then a transaction (insert, update, delete) at LSN {commit - 4:N0}..{commit:N0}: all or nothing after a crash.");
        view.Table(
            ["WAL metric", "Value"],
            [
                ["Records", Num(m.TotalEntries)],
                ["fsyncs", $"{Num(m.SyncCount)} for {Num(commits)} commits ({(m.SyncCount == 0 ? 0 : (double)commits / m.SyncCount):F1} commits per fsync: group commit)"],
                ["Write latency avg / p99", $"{m.AvgWriteLatencyMs:F2} ms / {m.P99WriteLatencyMs:F2} ms"],
                ["fsync latency avg / p99", $"{m.AvgSyncLatencyMs:F2} ms / {m.P99SyncLatencyMs:F2} ms"],
            ]);
    }

    private static void LoadArticles(DemoView view, VectorDatabase database)
    {
        var options = new CollectionOptions(DemoArticles.Dimension)
        {
            Metric = DistanceMetric.Cosine,
            Index = IndexKind.Hnsw,
            Hnsw = new HnswParameters { M = 16, EfConstruction = 100, EfSearch = 64 },
        };
        database.CreateCollection(ArticlesCollection, options);
        view.Say(
            $"Collection '{ArticlesCollection}': {PlannedCollection.Describe(options)}. Each article has a 64-dimensional embedding " +
            $"(clustered by topic) and metadata: topic, year, views, rating, tags. Written in transactions of {ArticleBatch}.");
        var clock = Stopwatch.StartNew();
        ProgressDisplay.Run(show: true, progress =>
        {
            ProgressDisplay.Bar bar = progress.Add($"Loading {ArticlesCollection}", Articles);
            for (int first = 0; first < Articles; first += ArticleBatch)
            {
                using VectorTransaction tx = database.BeginTransaction();
                for (int i = first; i < first + ArticleBatch; i++)
                {
                    (float[] vector, Dictionary<string, MetadataValue> metadata) = DemoArticles.Article(i);
                    tx.Insert(ArticlesCollection, DemoArticles.Id(i), vector, metadata);
                }

                tx.Commit();
                bar.Advance(ArticleBatch);
            }

            return 0;
        });
        clock.Stop();
        view.Success(
            $"Loaded {database.Count(ArticlesCollection):N0} articles in {clock.Elapsed.TotalSeconds:F2} s " +
            $"({Articles / clock.Elapsed.TotalSeconds:N0} records/s, HNSW graph built as they arrive).");
    }

    /// <summary>Runs the demo's filtered search; shows its results and how they compare with an exact scan.</summary>
    private static IReadOnlyList<SearchResult> Search(DemoView view, VectorDatabase database, bool show)
    {
        float[] query = DemoArticles.Query(QueryTopic);
        var options = new VectorSearchOptions { Filter = MetadataFilter.Parse(QueryFilter) };
        var clock = Stopwatch.StartNew();
        IReadOnlyList<SearchResult> results = database.Search(ArticlesCollection, query, K, options);
        clock.Stop();
        if (!show)
        {
            return results;
        }

        view.Say($"The {K} articles closest to a query about {QueryTopic}, among those matching the filter: {QueryFilter}");
        view.Table(
            ["#", "Id", "Cosine", "Topic", "Year", "Rating", "Tags"],
            results.Select((r, i) => new[]
            {
                (i + 1).ToString(CultureInfo.InvariantCulture), r.Id, r.Score.ToString("F3", CultureInfo.InvariantCulture),
                r.Metadata["topic"].ToString(), r.Metadata["year"].ToString(),
                r.Metadata["rating"].AsDouble.ToString("F1", CultureInfo.InvariantCulture), string.Join(", ", r.Metadata["tags"].AsStringList),
            }));
        IReadOnlyList<SearchResult> exact = database.Search(ArticlesCollection, query, K, options with { Exact = true });
        int same = results.Select(r => r.Id).Intersect(exact.Select(r => r.Id), StringComparer.Ordinal).Count();
        view.Success(
            $"HNSW answered in {clock.Elapsed.TotalMilliseconds:F2} ms, the filter applied inside the graph search; " +
            $"an exact scan finds the same {same} of {K}.");
        return results;
    }

    private static void ShowRecovery(DemoView view, VectorDatabase database, TimeSpan openTime)
    {
        RecoveryStats r = database.Recovery;
        WalOpenReport open = database.WalOpenReport;
        view.Table(
            ["Recovery", "Value"],
            [
                ["Started from", r.CheckpointLsn > 0 && database.LastCheckpoint is { } checkpoint
                    ? $"checkpoint {checkpoint.Sequence}: a snapshot of every collection up to LSN {Num(r.CheckpointLsn)}"
                    : "the start of the WAL (no checkpoint yet)"],
                ["WAL records replayed after it", Num(r.TotalEntries)],
                ["Applied", Num(r.AppliedEntries)],
                ["Skipped (transaction markers, uncommitted)", Num(r.SkippedEntries)],
                ["Torn tail cut off", r.TornTailBytes > 0
                    ? $"{Num(r.TornTailBytes)} bytes at {open.TornTailFile} offset {Num(open.TornTailOffset)}"
                    : "none: SIGKILL leaves what the process wrote in the OS page cache; a power cut could tear the last write"],
                ["Open transaction aborted", open.AbortedTransactionLsn is { } begin ? $"the one begun at LSN {Num(begin)}" : "none"],
                ["Last LSN", Num(r.LastLsn)],
                ["Recovery time", $"{Num(r.RecoveryTimeMs)} ms (open: {openTime.TotalMilliseconds:N0} ms)"],
            ]);
    }

    /// <summary>Checks every acknowledged record, the batches' atomicity and the articles; prints the verdicts.</summary>
    private static int Check(DemoView view, VectorDatabase database, ChildLoader.Run run, IReadOnlyList<SearchResult> before)
    {
        var problems = new List<string>();
        foreach (long i in run.Acks)
        {
            VectorRecord? record = database.CollectionExists(EventsCollection) ? database.Get(EventsCollection, DeterministicVectors.Id(i)) : null;
            if (record is null)
            {
                problems.Add($"acknowledged record v{i} is missing");
            }
            else if (!record.Vector.Span.SequenceEqual(DeterministicVectors.Vector(EventsSeed, i, DemoArticles.Dimension))
                || record.Metadata["i"].AsLong != i)
            {
                problems.Add($"acknowledged record v{i} has another vector or metadata");
            }
        }

        if (problems.Count > 0)
        {
            view.Failure($"{problems.Count:N0} acknowledged records did not survive intact; first: {problems[0]}.");
            return ExitCodes.DataError;
        }

        view.Success($"All {run.Acks.Count:N0} records the loader acknowledged are there, each with its exact vector and metadata.");
        int count = database.Count(EventsCollection);
        bool wholeBatches = count % EventsBatch == 0 && Enumerable.Range(0, count).All(i => database.Get(EventsCollection, DeterministicVectors.Id(i)) is not null);
        if (!wholeBatches)
        {
            view.Failure($"'{EventsCollection}' holds {count:N0} records, not whole batches of {EventsBatch} from v0.");
            return ExitCodes.DataError;
        }

        int extra = count - run.Acks.Count;
        view.Success(
            $"'{EventsCollection}' holds {count:N0} records, v0..v{count - 1}: whole batches of {EventsBatch} only" +
            (extra > 0
                ? $"; the last {extra:N0} were committed but the kill came before their acknowledgement was printed."
                : "; nothing half-written."));

        IReadOnlyList<SearchResult> after = Search(view, database, show: false);
        if (database.Count(ArticlesCollection) != Articles || !after.Select(r => r.Id).SequenceEqual(before.Select(r => r.Id), StringComparer.Ordinal))
        {
            view.Failure($"'{ArticlesCollection}' changed: {database.Count(ArticlesCollection):N0} articles, search results {string.Join(", ", after.Select(r => r.Id))}.");
            return ExitCodes.DataError;
        }

        view.Success($"'{ArticlesCollection}' still holds {Articles:N0} articles, and the filtered search returns the same {K} results as before the crash.");
        view.Say(
            "Try it yourself: oxivec load | import | search | export | stats --data <dir> (see --help), " +
            "and oxivec wal dump | verify --wal <dir>/wal to look inside the log.");
        return ExitCodes.Ok;
    }

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
