using System.Diagnostics;
using System.Text;
using OxiVec.Benchmarks.Store;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Scale;

/// <summary>The database side of one data set (OxiVec only).</summary>
internal sealed record DatabaseResult(
    double InsertSeconds, double InsertCpuSeconds, long ResidentDeltaBytes, CheckpointInfo Checkpoint, double CheckpointWallMs, double ReopenMs, RecoveryStats Recovery, int Recovered);

/// <summary>The <c>scale</c> verb's database phase: inserts through <see cref="VectorDatabase"/>, a checkpoint, a reopen from it.</summary>
internal static class ScaleDatabase
{
    private const string Collection = "c";

    private static VectorDatabaseOptions DbOptions() => new()
    {
        Wal = WalConfig.HighThroughput with { CheckpointInterval = int.MaxValue, MaxWalSize = 1L << 40 },
    };

    /// <summary>Insert through the database (1 thread, one record per commit), checkpoint, reopen from it.</summary>
    public static DatabaseResult Run(string verb, PeerDataset data, string dir)
    {
        Say(verb, $"{data.Key}: VectorDatabase inserts (HNSW collection, 1 thread)");
        long before = ResidentAnonBytes();
        double insertSeconds;
        double insertCpu;
        long delta;
        CheckpointInfo info;
        double checkpointMs;
        using (VectorDatabase db = VectorDatabase.Open(dir, DbOptions()))
        {
            db.CreateCollection(Collection, new CollectionOptions(data.Dimension) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw, Hnsw = PeerComparison.Parameters });
            TimeSpan cpu = ProcessCpu();
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < data.Points.Length; i++)
            {
                _ = db.Insert(Collection, Id("v", i), data.Points[i]);
            }

            insertSeconds = Stopwatch.GetElapsedTime(t).TotalSeconds;
            insertCpu = (ProcessCpu() - cpu).TotalSeconds;
            delta = ResidentAnonBytes() - before;
            Say(verb, $"  {data.Points.Length / insertSeconds:N0} inserts/s, {insertCpu * 1e6 / data.Points.Length:N0} us CPU/insert, +{delta / 1e6:0} MB resident; checkpoint");
            t = Stopwatch.GetTimestamp();
            info = db.Checkpoint();
            checkpointMs = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }

        Say(verb, $"  checkpoint {checkpointMs:0} ms, {info.Bytes / 1e6:0} MB; reopening");
        try
        {
            long r0 = Stopwatch.GetTimestamp();
            using VectorDatabase reopened = VectorDatabase.Open(dir, DbOptions());
            double reopenMs = Stopwatch.GetElapsedTime(r0).TotalMilliseconds;
            int recovered = reopened.Count(Collection);
            if (recovered != data.Points.Length)
            {
                throw new InvalidOperationException($"{data.Key}: recovered {recovered} of {data.Points.Length} rows");
            }

            return new DatabaseResult(insertSeconds, insertCpu, delta, info, checkpointMs, reopenMs, reopened.Recovery, recovered);
        }
        finally
        {
            TryDelete(dir);
        }
    }

    /// <summary>The database rows of the report for one data set.</summary>
    public static void Describe(StringBuilder sb, PeerDataset data, DatabaseResult d)
    {
        int n = data.Points.Length;
        Line(sb, $"| Inserts through `VectorDatabase.Insert` (HNSW collection, 1 thread, SyncIntervalMs = 1000, one record per commit) | {N(n / d.InsertSeconds)} /s ({d.InsertSeconds:0.0} s) |");
        Line(sb, $"| Process CPU time per `Insert` (every thread: the inserting one, the WAL's, GC) | {N(d.InsertCpuSeconds * 1e6 / n)} µs |");
        Line(sb, $"| Resident memory added by the collection (RssAnon delta after a full GC: vectors, graph, ids, WAL buffers) | {d.ResidentDeltaBytes / 1e6:0} MB = {N(d.ResidentDeltaBytes / (double)n)} B/vector |");
        Line(sb, $"| `Checkpoint()` after the inserts (no concurrent writers): wall time / CheckpointInfo.DurationMs | {d.CheckpointWallMs:0} ms / {d.Checkpoint.DurationMs} ms |");
        Line(sb, $"| Checkpoint size | {d.Checkpoint.Bytes / 1e6:0.0} MB = {N(d.Checkpoint.Bytes / (double)n)} B/vector |");
        Line(sb, $"| Recovery: `VectorDatabase.Open` from that checkpoint (warm page cache; {d.Recovery.TotalEntries:N0} WAL entries after it replayed) | {d.ReopenMs / 1000:0.00} s wall (RecoveryStats.RecoveryTimeMs {d.Recovery.RecoveryTimeMs} ms), {d.Recovered:N0} rows |");
    }
}
