using System.Collections.Concurrent;
using OxiVec.Indexing;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

/// <summary>
/// Searches running while other threads add, remove, compact and reuse slots. Bounded by operation counts (readers
/// run until the writers finish, at least a minimum number of searches), no sleeps. Every search checks: no
/// exception, no duplicate, sorted, only ids that were added at some point, no id removed before it started, and
/// k results (a set of ids that are never removed always holds at least k matches).
/// </summary>
public sealed class IndexConcurrencyStressTests
{
    private const int Dimension = 16;
    private const int K = 5;

    [Fact]
    public async Task HnswSearches_DuringParallelAddsRemovesAndCompactions_SeeOnlyValidResults()
    {
        using var index = new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { M = 8, EfConstruction = 40, AutoCompact = false });
        var run = new Run(index, stable: 800, addsPerWriter: 1_200, writers: 2);
        await run.ExecuteAsync(searchers: 2, reuseSlots: false);
        Assert.Empty(run.Errors);
        Assert.Equal(run.ExpectedCount, index.Count);
        index.ValidateInvariants();
    }

    [Fact]
    public async Task FlatSearches_DuringAddsAndRemoves_SeeOnlyValidResults()
    {
        using var index = new FlatIndex(Dimension, DistanceMetric.Cosine, 8, 16);
        var run = new Run(index, stable: 300, addsPerWriter: 1_500, writers: 1);
        await run.ExecuteAsync(searchers: 2, reuseSlots: false);
        Assert.Empty(run.Errors);
        Assert.Equal(run.ExpectedCount, index.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Searches_WhileRemovedSlotsAreReusedAtOnce_NeverFailNorReturnDuplicates(bool hnsw)
    {
        // The reuse ignores the caller's contract (wait for older searches), so a search may return a reused id:
        // only memory safety and the shape of each result are checked.
        using IVectorIndex index = hnsw
            ? new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { M = 6, EfConstruction = 30, CompactionThreshold = 0.05 }, 8, 16)
            : new FlatIndex(Dimension, DistanceMetric.Euclidean, 8, 16);
        var run = new Run(index, stable: 300, addsPerWriter: 1_500, writers: 1);
        await run.ExecuteAsync(searchers: 2, reuseSlots: true);
        Assert.Empty(run.Errors);
        Assert.Equal(run.ExpectedCount, index.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Add_WhileASearchIsStalledInItsFilter_CompletesAndIsFoundByANewSearch(bool hnsw)
    {
        var random = new Random(3);
        using IVectorIndex index = hnsw
            ? new HnswIndex(Dimension, DistanceMetric.Euclidean)
            : new FlatIndex(Dimension, DistanceMetric.Euclidean);
        for (int id = 0; id < 200; id++)
        {
            index.Add(id, Gaussian(random, Dimension));
        }

        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var stalled = Task.Run(() => index.Search(Gaussian(new Random(4), Dimension), K, new SearchOptions
        {
            Filter = _ =>
            {
                entered.Set();
                release.Wait();
                return true;
            },
        }));
        entered.Wait();

        // A bounded wait guards against a hang; it is not a timing assertion.
        float[] added = Gaussian(random, Dimension);
        var adding = Task.Run(() =>
        {
            index.Add(500, added);
            index.Remove(7);
        });
        bool completed = await Task.WhenAny(adding, Task.Delay(TimeSpan.FromSeconds(60))) == adding;
        IReadOnlyList<SearchHit> fresh = completed ? index.Search(added, 1) : [];
        release.Set();
        await stalled;
        Assert.True(completed, "the add waited for a running search");
        Assert.Equal(500, fresh[0].Id);
        Assert.False(index.Contains(7));
    }

    /// <summary>One stress run: writers add fresh ids (and remove churn ids); searchers check every result.</summary>
    private sealed class Run
    {
        private readonly IVectorIndex _index;
        private readonly int _stable;
        private readonly int _addsPerWriter;
        private readonly int _writers;
        private readonly float[][] _vectors;
        private readonly int[] _removedAt;
        private readonly bool[] _added;
        private readonly ConcurrentQueue<int> _churn = new();
        private int _sequence;
        private int _removed;

        public Run(IVectorIndex index, int stable, int addsPerWriter, int writers)
        {
            _index = index;
            _stable = stable;
            _addsPerWriter = addsPerWriter;
            _writers = writers;
            var random = new Random(stable + addsPerWriter);
            int total = stable + (addsPerWriter * writers);
            _vectors = Enumerable.Range(0, total).Select(_ => Gaussian(random, Dimension)).ToArray();
            _removedAt = Enumerable.Repeat(int.MaxValue, total).ToArray();
            _added = new bool[total];
            for (int id = 0; id < stable; id++)
            {
                _added[id] = true;
                index.Add(id, _vectors[id]);
            }
        }

        public ConcurrentQueue<string> Errors { get; } = new();

        public int ExpectedCount => _stable + (_addsPerWriter * _writers) - _removed;

        public async Task ExecuteAsync(int searchers, bool reuseSlots)
        {
            using var done = new CancellationTokenSource();
            int writersLeft = _writers + 1;
            void Finished()
            {
                if (Interlocked.Decrement(ref writersLeft) == 0)
                {
                    done.Cancel();
                }
            }

            Task[] writers = Enumerable.Range(0, _writers).Select(w => Task.Run(() =>
            {
                try
                {
                    for (int i = 0; i < _addsPerWriter; i++)
                    {
                        int id = _stable + (w * _addsPerWriter) + i;
                        Volatile.Write(ref _added[id], true);
                        _index.Add(id, _vectors[id]);
                        _churn.Enqueue(id);
                    }
                }
                catch (Exception e)
                {
                    Errors.Enqueue($"writer: {e}");
                }
                finally
                {
                    Finished();
                }
            })).ToArray();
            var remover = Task.Run(() =>
            {
                try
                {
                    Remove(reuseSlots, () => Volatile.Read(ref writersLeft) == 1);
                }
                catch (Exception e)
                {
                    Errors.Enqueue($"remover: {e}");
                }
                finally
                {
                    Finished();
                }
            });
            Task[] readers = Enumerable.Range(0, searchers).Select(r => Task.Run(() => Search(r, done.Token))).ToArray();
            await Task.WhenAll([.. writers, remover, .. readers]);
        }

        private void Remove(bool reuseSlots, Func<bool> addersDone)
        {
            var random = new Random(77);
            while (!addersDone() || !_churn.IsEmpty)
            {
                if (!_churn.TryDequeue(out int victim))
                {
                    continue;
                }

                if (random.Next(3) == 0)
                {
                    // Keep about a third of the added ids.
                    continue;
                }

                _index.Remove(victim);
                int s = _sequence + 1;
                Volatile.Write(ref _removedAt[victim], s);
                Volatile.Write(ref _sequence, s);
                _removed++;
                if (s % 150 == 0)
                {
                    _index.Compact();
                }

                if (reuseSlots)
                {
                    foreach (int id in _index.TakeReleasedIds())
                    {
                        // Another vector (the old one negated) under the released id, at once; it is live again (marked
                        // so before the add, so a search returning the new vector is not taken for the removed one).
                        Volatile.Write(ref _removedAt[id], int.MaxValue);
                        _index.Add(id, _vectors[id].Select(x => -x).ToArray());
                        _removed--;
                    }
                }
            }
        }

        private void Search(int reader, CancellationToken done)
        {
            var random = new Random(100 + reader);
            for (int iteration = 0; !done.IsCancellationRequested || iteration < 100; iteration++)
            {
                try
                {
                    int target = random.Next(_stable);
                    int mode = iteration % 4;
                    var options = mode switch
                    {
                        0 => SearchOptions.Default,
                        1 => new SearchOptions { Exact = true },
                        2 => new SearchOptions { Filter = id => id % 2 == target % 2 },
                        _ => new SearchOptions { Ef = K },
                    };
                    int start = Volatile.Read(ref _sequence);
                    IReadOnlyList<SearchHit> hits = _index.Search(_vectors[target], K, options);
                    Check(hits, start, mode == 1 ? target : -1, mode == 2 ? target % 2 : -1);
                }
                catch (Exception e)
                {
                    Errors.Enqueue($"search: {e}");
                    return;
                }
            }
        }

        private void Check(IReadOnlyList<SearchHit> hits, int start, int exactTarget, int parity)
        {
            if (hits.Count != K)
            {
                Errors.Enqueue($"{hits.Count} hits, {K} expected");
            }

            var seen = new HashSet<int>();
            for (int i = 0; i < hits.Count; i++)
            {
                int id = hits[i].Id;
                if (!seen.Add(id))
                {
                    Errors.Enqueue($"id {id} returned twice");
                }

                if (id < 0 || id >= _added.Length || !Volatile.Read(ref _added[id]))
                {
                    Errors.Enqueue($"id {id} was never added");
                }
                else if (Volatile.Read(ref _removedAt[id]) <= start)
                {
                    Errors.Enqueue($"id {id} returned by a search that started after its removal");
                }

                if (parity >= 0 && id % 2 != parity)
                {
                    Errors.Enqueue($"id {id} does not pass the filter");
                }

                if (i > 0 && hits[i - 1].Distance > hits[i].Distance)
                {
                    Errors.Enqueue("hits not sorted");
                }
            }

            if (exactTarget >= 0 && (hits.Count == 0 || hits[0].Id != exactTarget))
            {
                Errors.Enqueue($"exact search missed stable id {exactTarget}");
            }
        }
    }
}
