using BenchmarkDotNet.Attributes;
using OxiVec.Benchmarks.Store;
using OxiVec.Indexing;

namespace OxiVec.Benchmarks.Micro;

/// <summary>
/// <see cref="HnswIndex.Search"/> on one thread, per query, at the beam widths around recall@10 0.95 and 0.99 on the
/// store benchmark's data sets (clustered 128-d; embedding-like 768-d), default graph parameters.
/// </summary>
[MinColumn]
public class HnswSearchBenchmarks
{
    private const int Queries = 200;
    private HnswIndex? _index;
    private float[][] _queries = [];
    private SearchOptions _ef24 = SearchOptions.Default;
    private SearchOptions _ef64 = SearchOptions.Default;

    /// <summary>Vector length (the 768-d set is half the size, to keep the setup short).</summary>
    [Params(128, 768)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (float[][] points, float[][] queries) = Dimension == 128
            ? BenchCommon.Clustered(20_000, Queries, 128, 50, 0.35, 7)
            : BenchCommon.LowRankClustered(10_000, Queries, Dimension, 48, 100, 0.5, 0.05, 13);
        _index = new HnswIndex(Dimension, DistanceMetric.Euclidean);
        for (int i = 0; i < points.Length; i++)
        {
            _index.Add(i, points[i]);
        }

        _queries = queries;
        _ef24 = new SearchOptions { Ef = 24 };
        _ef64 = new SearchOptions { Ef = 64 };
    }

    [GlobalCleanup]
    public void Cleanup() => _index?.Dispose();

    [Benchmark(OperationsPerInvoke = Queries)]
    public int SearchEf24() => Run(_ef24);

    [Benchmark(OperationsPerInvoke = Queries)]
    public int SearchEf64() => Run(_ef64);

    private int Run(SearchOptions options)
    {
        int found = 0;
        foreach (float[] q in _queries)
        {
            found += _index!.Search(q, 10, options).Count;
        }

        return found;
    }
}
