using System.Collections.Concurrent;
using OxiVec.Indexing;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class HnswConcurrencyTests
{
    private const int Dimension = 32;

    [Fact]
    public async Task SearchesDuringInsertsDeletesAndCompactions_NeverFailOrReturnRemovedIds()
    {
        const int Stable = 2_000, Initial = 3_000, WriterOps = 3_000, MaxIds = Initial + WriterOps;
        var random = new Random(12);
        float[][] vectors = Enumerable.Range(0, MaxIds).Select(_ => Gaussian(random, Dimension)).ToArray();
        using var index = new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { CompactionThreshold = 0.1 });
        for (int id = 0; id < Initial; id++)
        {
            index.Add(id, vectors[id]);
        }

        // removedAt[id] = the removal's sequence number, published after Remove returned; a search that read
        // sequence s before starting must not return any id with removedAt <= s.
        int[] removedAt = Enumerable.Repeat(int.MaxValue, MaxIds).ToArray();
        int sequence = 0;
        var errors = new ConcurrentQueue<string>();
        using var writerDone = new CancellationTokenSource();

        var writer = Task.Run(() =>
        {
            try
            {
                var writerRandom = new Random(13);
                var churn = Enumerable.Range(Stable, Initial - Stable).ToList();
                for (int op = 0; op < WriterOps; op++)
                {
                    int fresh = Initial + op;
                    index.Add(fresh, vectors[fresh]);
                    churn.Add(fresh);
                    int victimIndex = writerRandom.Next(churn.Count);
                    int victim = churn[victimIndex];
                    churn[victimIndex] = churn[^1];
                    churn.RemoveAt(churn.Count - 1);
                    index.Remove(victim);
                    int s = sequence + 1;
                    Volatile.Write(ref removedAt[victim], s);
                    Volatile.Write(ref sequence, s);
                }
            }
            finally
            {
                writerDone.Cancel();
            }
        });

        long approximateQueries = 0, approximateFound = 0, exactQueries = 0;
        Task[] readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var readerRandom = new Random(100 + r);
            int iteration = 0;
            while (!writerDone.IsCancellationRequested || iteration < 200)
            {
                iteration++;
                int target = readerRandom.Next(Stable);
                int mode = iteration % 3;
                var options = mode switch
                {
                    0 => SearchOptions.Default,
                    1 => new SearchOptions { Exact = true },
                    _ => new SearchOptions { Filter = id => id % 2 == target % 2 },
                };
                int start = Volatile.Read(ref sequence);
                IReadOnlyList<SearchHit> hits = index.Search(vectors[target], 5, options);
                if (hits.Count != 5)
                {
                    errors.Enqueue($"{hits.Count} hits for stable id {target}");
                }

                for (int i = 0; i < hits.Count; i++)
                {
                    if (Volatile.Read(ref removedAt[hits[i].Id]) <= start)
                    {
                        errors.Enqueue($"id {hits[i].Id} returned by a search that started after its removal");
                    }

                    if (i > 0 && hits[i - 1].Distance > hits[i].Distance)
                    {
                        errors.Enqueue("hits not sorted");
                    }
                }

                bool found = hits.Count > 0 && hits[0].Id == target;
                if (mode == 1)
                {
                    Interlocked.Increment(ref exactQueries);
                    if (!found)
                    {
                        errors.Enqueue($"exact search missed stable id {target}");
                    }
                }
                else
                {
                    Interlocked.Increment(ref approximateQueries);
                    if (found)
                    {
                        Interlocked.Increment(ref approximateFound);
                    }
                }
            }
        })).ToArray();

        await Task.WhenAll([writer, .. readers]);
        Assert.Empty(errors);
        Assert.True(exactQueries > 0);
        Assert.True(approximateFound >= approximateQueries * 0.95, $"{approximateFound} of {approximateQueries} approximate searches found their own vector");
        Assert.True(index.CompactionCount >= 2, $"{index.CompactionCount} compactions");
        Assert.Equal(Initial, index.Count);
        index.ValidateInvariants();
    }

    [Fact]
    public void ParallelSearches_AgreeWithSequentialOnes()
    {
        var random = new Random(21);
        using var index = new HnswIndex(Dimension, DistanceMetric.Cosine);
        for (int id = 0; id < 3_000; id++)
        {
            index.Add(id, Gaussian(random, Dimension));
        }

        float[][] queries = Enumerable.Range(0, 400).Select(_ => Gaussian(random, Dimension)).ToArray();
        SearchOptions Options(int i) => (i % 3) switch
        {
            0 => SearchOptions.Default,
            1 => new SearchOptions { Ef = 20 + i },
            _ => new SearchOptions { Filter = id => id % 7 != i % 7 },
        };
        IReadOnlyList<SearchHit>[] sequential = queries.Select((q, i) => index.Search(q, 8, Options(i))).ToArray();
        var parallel = new IReadOnlyList<SearchHit>[queries.Length];
        Parallel.For(0, queries.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = index.Search(queries[i], 8, Options(i)));
        for (int i = 0; i < queries.Length; i++)
        {
            Assert.Equal(sequential[i], parallel[i]);
        }
    }
}
