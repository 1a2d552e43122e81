using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace OxiVec.Indexing;

/// <summary>Distances (SIMD through <see cref="TensorPrimitives"/>), validation and normalisation of vectors.</summary>
internal static class VectorMath
{
    /// <summary>The largest dimension an index accepts.</summary>
    public const int MaxDimension = 1 << 16;

    /// <summary>The internal distance between two prepared vectors: lower is better.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Distance(DistanceMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (metric == DistanceMetric.Euclidean)
        {
            float d = TensorPrimitives.Distance(a, b);
            return d * d;
        }

        float dot = TensorPrimitives.Dot(a, b);
        return metric == DistanceMetric.Cosine ? 1f - dot : -dot;
    }

    /// <summary>Checks a constructor's dimension and metric.</summary>
    public static void ValidateShape(int dimension, DistanceMetric metric)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, MaxDimension);
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric.");
        }
    }

    /// <summary>
    /// Validates <paramref name="source"/> (dimension, finite components, non-zero length for cosine) and writes
    /// the prepared vector (normalised for cosine, copied otherwise) into <paramref name="destination"/>. Nothing
    /// is written when it throws.
    /// </summary>
    public static void Prepare(
        DistanceMetric metric, int dimension, ReadOnlySpan<float> source, Span<float> destination, string paramName)
    {
        float scale = Validate(metric, dimension, source, paramName);
        if (metric == DistanceMetric.Cosine)
        {
            TensorPrimitives.Multiply(source, scale, destination);
        }
        else
        {
            source.CopyTo(destination);
        }
    }

    /// <summary>
    /// Validates a vector and returns the factor that normalises it (cosine) or 1.
    /// </summary>
    public static float Validate(DistanceMetric metric, int dimension, ReadOnlySpan<float> source, string paramName)
    {
        if (source.Length != dimension)
        {
            throw new ArgumentException(
                $"The {paramName} has {source.Length} dimensions but the index has {dimension}.", paramName);
        }

        // A sum times zero is NaN exactly when some component is NaN or infinite (or the sum overflows, which
        // the loop then tells apart).
        if (float.IsNaN(TensorPrimitives.Sum(source) * 0f))
        {
            for (int i = 0; i < source.Length; i++)
            {
                if (!float.IsFinite(source[i]))
                {
                    throw new ArgumentException(
                        $"The {paramName} has a non-finite component ({source[i]}) at index {i}; NaN and infinity are not allowed.",
                        paramName);
                }
            }
        }

        if (metric != DistanceMetric.Cosine)
        {
            return 1f;
        }

        float norm = TensorPrimitives.Norm(source);
        if (norm == 0f || !float.IsFinite(norm))
        {
            throw new ArgumentException(
                $"The {paramName} cannot be normalised for cosine distance: its length is {norm}.", paramName);
        }

        return 1f / norm;
    }
}
