using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using OxiVec.Indexing;

namespace OxiVec.Benchmarks.Micro;

/// <summary>
/// The HNSW inner loop's distance: <see cref="VectorMath.SquaredEuclidean"/> and <see cref="VectorMath.Dot"/> against
/// the <see cref="TensorPrimitives"/> calls they replaced (Distance squared, Dot), over 256 vector pairs per call.
/// </summary>
public class DistanceBenchmarks
{
    private const int Pairs = 256;
    private float[] _a = [];
    private float[] _b = [];

    /// <summary>Vector length: common embedding sizes.</summary>
    [Params(128, 768)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = [.. Enumerable.Range(0, Dimension).Select(_ => (float)rng.NextDouble())];
        _b = [.. Enumerable.Range(0, Pairs * Dimension).Select(_ => (float)rng.NextDouble())];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Pairs)]
    public float TensorPrimitivesDistanceSquared()
    {
        float sum = 0;
        for (int i = 0; i < Pairs; i++)
        {
            float d = TensorPrimitives.Distance(_a, _b.AsSpan(i * Dimension, Dimension));
            sum += d * d;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Pairs)]
    public float SquaredEuclidean()
    {
        float sum = 0;
        for (int i = 0; i < Pairs; i++)
        {
            sum += VectorMath.SquaredEuclidean(_a, _b.AsSpan(i * Dimension, Dimension));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Pairs)]
    public float TensorPrimitivesDot()
    {
        float sum = 0;
        for (int i = 0; i < Pairs; i++)
        {
            sum += TensorPrimitives.Dot(_a, _b.AsSpan(i * Dimension, Dimension));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Pairs)]
    public float Dot()
    {
        float sum = 0;
        for (int i = 0; i < Pairs; i++)
        {
            sum += VectorMath.Dot(_a, _b.AsSpan(i * Dimension, Dimension));
        }

        return sum;
    }
}
