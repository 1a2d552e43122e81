using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Dispose is a barrier for an automatic (background) checkpoint, as it is for a manual one.</summary>
public sealed class DisposeDuringBackgroundCheckpointTests
{
    private static readonly VectorDatabaseOptions Options = new()
    {
        Wal = WalConfig.Default with { SyncIntervalMs = 0, CheckpointInterval = 1 },
    };

    private static readonly CollectionOptions Flat = new(2) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean };

    [Fact]
    public void DisposeDuringABackgroundCheckpoint_WaitsForIt_ThenClosesTheWalAndReleasesItsLock()
    {
        using var temp = new TempDirectory();
        var storage = new HookedCheckpointStorage();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int started = 0;
        int startedAfterDispose = 0;
        int disposing = 0;
        storage.OnCreateDirectory = path =>
        {
            if (!path.EndsWith(".tmp", StringComparison.Ordinal))
            {
                return; // the checkpoints directory itself
            }

            startedAfterDispose += Volatile.Read(ref disposing);
            if (Interlocked.Increment(ref started) == 1)
            {
                held.Set();
                release.Wait(); // the first background checkpoint is held here, on its own thread
            }
        };

        VectorDatabase db = VectorDatabase.Open(temp.Path, Options, walStorage: null, storage);
        db.CreateCollection("docs", Flat);
        db.Insert("docs", "a", new float[] { 1, 1 }); // one operation: the automatic checkpoint is due
        Assert.True(held.Wait(TimeSpan.FromMinutes(2)), "a background checkpoint started");

        Volatile.Write(ref disposing, 1);
        var disposer = new Thread(db.Dispose);
        disposer.Start();

        // Let Dispose get as far as it goes while the checkpoint is held (it blocks or, without a barrier, finishes).
        SpinWait.SpinUntil(() => (disposer.ThreadState & (ThreadState.WaitSleepJoin | ThreadState.Stopped)) != 0, TimeSpan.FromSeconds(30));
        Assert.True(disposer.IsAlive, "Dispose waits for the background checkpoint");
        Assert.Throws<WalLockedException>(() => VectorDatabase.Open(temp.Path, Options)); // the WAL is still open and locked
        release.Set();
        Assert.True(disposer.Join(TimeSpan.FromMinutes(2)), "Dispose returns once the checkpoint finished");

        Assert.Throws<ObjectDisposedException>(() => db.Checkpoint());
        Assert.Equal(1, Volatile.Read(ref started));
        Assert.Equal(0, startedAfterDispose);

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, Options); // the lock was released
        Assert.Equal(1, reopened.LastCheckpoint?.Sequence); // the held checkpoint completed against an open WAL
        Assert.Equal([1f, 1f], reopened.Get("docs", "a")!.Vector.ToArray());
    }
}
