using Cloud.Unum.USearch;
using OxiVec.Indexing;

namespace OxiVec.Benchmarks.Store;

/// <summary>One HNSW engine under comparison: built once, then searched with a beam width set per sweep step.</summary>
internal interface ISearchEngine : IDisposable
{
    string Name { get; }

    /// <summary>Adds vector <paramref name="id"/>; called from one thread, ids 0, 1, 2, ... in order.</summary>
    void Add(int id, float[] vector);

    /// <summary>Sets the search beam width; no search runs concurrently.</summary>
    void SetEf(int ef);

    /// <summary>Writes the ids of the nearest vectors (closest first) to <paramref name="ids"/>; thread-safe.</summary>
    int Search(float[] query, Span<int> ids);
}

/// <summary>OxiVec's <see cref="HnswIndex"/> on its own (no database, no WAL), squared-L2 ordering.</summary>
internal sealed class OxiVecEngine(int dimension, HnswParameters parameters) : ISearchEngine
{
    private readonly HnswIndex _index = new(dimension, DistanceMetric.Euclidean, parameters);
    private SearchOptions _options = SearchOptions.Default;

    public string Name => "OxiVec";

    public void Add(int id, float[] vector) => _index.Add(id, vector);

    public void SetEf(int ef) => _options = new SearchOptions { Ef = ef };

    public int Search(float[] query, Span<int> ids)
    {
        IReadOnlyList<SearchHit> hits = _index.Search(query, ids.Length, _options);
        for (int i = 0; i < hits.Count; i++)
        {
            ids[i] = hits[i].Id;
        }

        return hits.Count;
    }

    public void Dispose() => _index.Dispose();
}

/// <summary>USearch through <see cref="USearchPeer"/>, metric L2 squared, keys equal to the OxiVec ids.</summary>
internal sealed class USearchEngine : ISearchEngine
{
    private readonly USearchPeer _index;

    public USearchEngine(int dimension, int capacity, HnswParameters parameters)
    {
        // connectivity = M (the base layer keeps 2M links, as OxiVec's MaxM0); expansion_add = efConstruction.
        _index = new USearchPeer(dimension, MetricKind.L2sq, parameters.M, parameters.EfConstruction);
        _index.Reserve(capacity);
        Description = _index.Describe();
    }

    public string Name => "USearch";

    /// <summary>Version and SIMD target.</summary>
    public string Description { get; }

    public void Add(int id, float[] vector) => _index.Add((ulong)id, vector);

    public void SetEf(int ef) => _index.SetExpansionSearch(ef);

    public int Search(float[] query, Span<int> ids)
    {
        Span<ulong> keys = stackalloc ulong[ids.Length];
        Span<float> distances = stackalloc float[ids.Length];
        int found = _index.Search(query, keys, distances);
        for (int i = 0; i < found; i++)
        {
            ids[i] = (int)keys[i];
        }

        return found;
    }

    public void Dispose() => _index.Dispose();
}
