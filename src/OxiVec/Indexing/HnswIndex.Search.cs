namespace OxiVec.Indexing;

/// <summary>Queries: approximate, filtered and exact.</summary>
public sealed partial class HnswIndex
{
    /// <summary>How many slots are sampled to estimate a filter's selectivity.</summary>
    private const int FilterSampleSize = 256;

    /// <summary>The cost of one filter call in units of one distance computation (for the cost model).</summary>
    private const double FilterCallCost = 0.1;

    /// <inheritdoc/>
    /// <remarks>
    /// Approximate unless <see cref="SearchOptions.Exact"/>; the beam width is <see cref="SearchOptions.Ef"/>
    /// (default <see cref="HnswParameters.EfSearch"/>), at least <paramref name="k"/>. Whenever the graph yields
    /// fewer than <c>min(k, matches)</c> results the search falls back to an exact scan.
    /// </remarks>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        options ??= SearchOptions.Default;
        HnswScratch scratch = _scratch.Rent();
        try
        {
            VectorMath.Prepare(Metric, Dimension, query, scratch.Query, nameof(query));
            return SearchCore(scratch.Query, k, options, scratch);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <summary>
    /// One search over one capture: the live count and the entry point first, then the high-water mark and the
    /// tables (<see cref="View"/>), so the entry point is readable in the capture.
    /// </summary>
    private SearchHit[] SearchCore(ReadOnlySpan<float> query, int k, SearchOptions options, HnswScratch scratch)
    {
        int live = Volatile.Read(ref _live);
        (int entry, int maxLevel) = Unpack(Volatile.Read(ref _top));
        HnswGraphView graph = View();
        if (live == 0)
        {
            return [];
        }

        Func<int, bool>? filter = options.Filter;
        if (options.Exact || !graph.Readable(entry))
        {
            return ExactScan(graph, query, k, filter, scratch);
        }

        int ef = Math.Max(options.Ef ?? Parameters.EfSearch, k);
        long budget = long.MaxValue;
        if (filter is not null && !options.GraphWalkOnly)
        {
            if (ScanIsCheaper(graph, live, filter, ef))
            {
                Interlocked.Increment(ref _exactFallbacks);
                return ExactScan(graph, query, k, filter, scratch);
            }

            // Past this many distances a scan of everything would have been cheaper.
            budget = Math.Max(live / 2, (long)ef * _maxM0);
        }

        float entryDistance = VectorMath.Distance(Metric, query, graph.Vector(entry));
        for (int layer = maxLevel; layer > 0; layer--)
        {
            Greedy(graph, query, layer, -1, ref entry, ref entryDistance);
        }

        ReadOnlySpan<Candidate> entries = [new Candidate(entryDistance, entry)];
        bool complete = SearchLayer(graph, query, entries, ef, 0, filter, -1, scratch, budget, out _);
        int wanted = filter is null ? Math.Min(k, live) : k;
        if ((!complete || scratch.Results.Count < wanted) && !options.GraphWalkOnly)
        {
            // The beam could not fill k (a selective filter, a region cut off by deletes, or links rewritten under
            // the search): scan instead.
            Interlocked.Increment(ref _exactFallbacks);
            return ExactScan(graph, query, k, filter, scratch);
        }

        return ExactSearch.ToHits(scratch.Results, k);
    }

    private SearchHit[] ExactScan(
        in HnswGraphView graph, ReadOnlySpan<float> query, int k, Func<int, bool>? filter, HnswScratch scratch)
    {
        MaxCandidateHeap heap = scratch.Results;
        heap.Clear();
        ExactSearch.Scan(graph.Vectors, graph.States, graph.HighWater, query, Metric, filter, k, heap);
        return ExactSearch.ToHits(heap, k);
    }

    /// <summary>
    /// Estimates the filter's selectivity s from a fixed pseudo-random sample of slots and compares the cost of
    /// a filtered scan (a filter call per slot, a distance per match) with that of a filtered beam (about
    /// ef × MaxM0 / 2 distances, divided by s since only matches fill the beam).
    /// </summary>
    private bool ScanIsCheaper(in HnswGraphView graph, int liveCount, Func<int, bool> filter, int ef)
    {
        int highWater = graph.HighWater;
        int samples = Math.Min(FilterSampleSize, highWater);
        int live = 0;
        int matched = 0;
        for (int i = 0; i < samples; i++)
        {
            // A Weyl sequence (golden ratio) spread over [0, highWater): deterministic and not aligned with
            // strides such as id % 100.
            int slot = samples == highWater ? i : (int)(((ulong)((uint)(i + 1) * 0x9E3779B9u) * (ulong)highWater) >> 32);
            if (graph.IsLive(slot))
            {
                live++;
                if (filter(slot))
                {
                    matched++;
                }
            }
        }

        if (matched == 0)
        {
            return true;
        }

        double selectivity = matched / (double)live;
        double scanCost = (liveCount * selectivity) + (highWater * FilterCallCost);
        double beamCost = ef * (_maxM0 / 2.0) / selectivity;
        return scanCost <= beamCost;
    }
}
