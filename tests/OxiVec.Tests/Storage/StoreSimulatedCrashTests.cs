using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// Power loss under the store: a random workload (inserts, upserts, deletes, transactions across two collections)
/// runs with its WAL on a <see cref="SimulatedDisk"/> until the process "dies" at a random I/O operation; the disk
/// keeps what was synced plus a random treatment of unsynced writes. The reopened store must hold exactly the
/// acknowledged state, plus possibly the whole of the one operation in flight, never part of it.
/// </summary>
public sealed class StoreSimulatedCrashTests
{
    private static readonly string[] Collections = ["a", "b"];

    [Theory]
    [InlineData(CrashMode.DropUnsynced)]
    [InlineData(CrashMode.TornPrefix)]
    [InlineData(CrashMode.RandomSectors)]
    public void PowerLossAtAnyOperation_StoreHoldsTheAcknowledgedStateAndNothingPartial(CrashMode mode)
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions
        {
            Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, MaxWalSize = 1L << 30, CheckpointInterval = 1_000_000 },
        };

        for (int seed = 0; seed < 850; seed++)
        {
            var random = new Random(seed * 31 + (int)mode);
            var disk = new SimulatedDisk { CrashAtOperation = random.Next(1, 400) };
            string dir = temp.Sub($"{mode}-{seed}");
            var acknowledged = new Dictionary<(string, string), float>();
            Dictionary<(string, string), float?>? inFlight = null;
            try
            {
                using VectorDatabase db = VectorDatabase.Open(dir, options, disk);
                foreach (string c in Collections)
                {
                    db.CreateCollection(c, new CollectionOptions(4) { Index = IndexKind.Flat });
                }

                for (int op = 0; ; op++)
                {
                    inFlight = [];
                    using VectorTransaction tx = db.BeginTransaction();
                    int writes = random.Next(4) == 0 ? random.Next(2, 6) : 1;
                    var staged = new Dictionary<(string, string), float>(acknowledged);
                    for (int w = 0; w < writes; w++)
                    {
                        string c = Collections[random.Next(2)];
                        string id = $"v{random.Next(60)}";
                        if (staged.ContainsKey((c, id)) && random.Next(3) == 0)
                        {
                            tx.Delete(c, id);
                            staged.Remove((c, id));
                            inFlight[(c, id)] = null;
                        }
                        else
                        {
                            float value = op * 10 + w;
                            tx.Upsert(c, id, new[] { value, 1, 2, 3 });
                            staged[(c, id)] = value;
                            inFlight[(c, id)] = value;
                        }
                    }

                    tx.Commit();
                    foreach (((string, string) key, float? value) in inFlight)
                    {
                        if (value is { } v)
                        {
                            acknowledged[key] = v;
                        }
                        else
                        {
                            acknowledged.Remove(key);
                        }
                    }

                    inFlight = null;
                }
            }
            catch (IOException ex) when (ex is SimulatedCrashException || ex.InnerException is SimulatedCrashException)
            {
                // The process died here.
            }

            SimulatedDisk after = disk.Crash(random, mode);
            using VectorDatabase reopened = VectorDatabase.Open(dir, options, after);
            var recovered = new Dictionary<(string, string), float>();
            foreach (string c in Collections.Where(reopened.CollectionExists))
            {
                foreach (VectorRecord r in reopened.Export(c))
                {
                    recovered[(c, r.Id)] = r.Vector.Span[0];
                }
            }

            var withInFlight = new Dictionary<(string, string), float>(acknowledged);
            foreach (((string, string) key, float? value) in inFlight ?? [])
            {
                if (value is { } v)
                {
                    withInFlight[key] = v;
                }
                else
                {
                    withInFlight.Remove(key);
                }
            }

            bool matchesAcknowledged = Same(recovered, acknowledged);
            bool matchesWithInFlight = Same(recovered, withInFlight);
            Assert.True(
                matchesAcknowledged || matchesWithInFlight,
                $"seed {seed}, {mode}: recovered {recovered.Count} records, acknowledged {acknowledged.Count}, with the operation in flight {withInFlight.Count}");
        }
    }

    private static bool Same(Dictionary<(string, string), float> a, Dictionary<(string, string), float> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out float v) && v == kv.Value);
}

public sealed class StoreFaultTests
{
    private static readonly VectorDatabaseOptions Options = new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, MaxWalSize = 1L << 30, CheckpointInterval = 1_000_000 },
    };

    [Fact]
    public void FsyncFailure_RefusesWritesKeepsReadsAndLosesNothingAcknowledged()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, Options, disk))
        {
            db.CreateCollection("docs", new CollectionOptions(2));
            db.Insert("docs", "kept", new float[] { 1, 2 });
            disk.FailSyncFrom = disk.SyncCount + 1;

            var ex = Assert.Throws<WalFailedException>(() => db.Insert("docs", "lost", new float[] { 3, 4 }));
            Assert.Contains("fsync failed", ex.Message, StringComparison.Ordinal);
            disk.FailSyncFrom = null;
            Assert.Throws<WalFailedException>(() => db.Insert("docs", "later", new float[] { 5, 6 }));
            Assert.NotNull(db.Get("docs", "kept")); // reads go on
            Assert.Null(db.Get("docs", "lost"));    // never acknowledged, never applied
        }

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, Options, disk.Crash(new Random(1), CrashMode.DropUnsynced));
        Assert.NotNull(reopened.Get("docs", "kept"));
        Assert.Null(reopened.Get("docs", "later"));
    }

    [Fact]
    public void DiskFull_EndsInAClearErrorAndKeepsTheAcknowledgedWrites()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk { Capacity = 4 * WalConfig.MinSegmentSizeBytes };
        int acknowledged = 0;
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, Options, disk))
        {
            db.CreateCollection("docs", new CollectionOptions(16));
            IOException ex = Assert.ThrowsAny<IOException>(() =>
            {
                for (int i = 0; i < 100_000; i++)
                {
                    db.Insert("docs", $"v{i}", Enumerable.Repeat((float)i + 1, 16).ToArray());
                    acknowledged++;
                }
            });
            Assert.Contains("No space left", ex.ToString(), StringComparison.Ordinal);
        }

        SimulatedDisk after = disk.Crash(new Random(2), CrashMode.DropUnsynced);
        after.Capacity = null;
        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, Options, after);
        Assert.True(acknowledged > 100);
        for (int i = 0; i < acknowledged; i++)
        {
            Assert.Equal(i + 1, reopened.Get("docs", $"v{i}")!.Vector.Span[0]);
        }
    }
}
