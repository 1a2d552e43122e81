using System.Diagnostics.CodeAnalysis;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OxiVec.Indexing;

/// <summary>Distances (SIMD through <see cref="TensorPrimitives"/>), validation and normalisation of vectors.</summary>
internal static class VectorMath
{
    /// <summary>The largest dimension an index accepts.</summary>
    public const int MaxDimension = 1 << 16;

    /// <summary>
    /// The longest vector a dot-product index accepts (2^63, about 9.2e18): the product of two such lengths is
    /// 2^126, below float's maximum (about 2^128), so no dot product, nor any partial sum of one, overflows.
    /// </summary>
    public const float MaxDotProductLength = 9.223372e18f;

    /// <summary>The internal distance between two prepared vectors: lower is better.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Distance(DistanceMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (metric == DistanceMetric.Euclidean)
        {
            return SquaredEuclidean(a, b);
        }

        float dot = Dot(a, b);
        return metric == DistanceMetric.Cosine ? 1f - dot : -dot;
    }

    /// <summary>
    /// The squared Euclidean distance, without the square root (the internal distance of
    /// <see cref="DistanceMetric.Euclidean"/>). The spans must have the same length.
    /// </summary>
    /// <remarks>
    /// The index's hot loop: a fused multiply-add per SIMD lane with two independent accumulators, and none of the
    /// general-purpose entry checks of <see cref="TensorPrimitives"/>, which dominate at 100-1000 dimensions.
    /// </remarks>
    public static float SquaredEuclidean(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        if (b.Length != n)
        {
            ThrowLengthMismatch();
        }

        ref float x = ref MemoryMarshal.GetReference(a);
        ref float y = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<float> acc0 = Vector512<float>.Zero;
            Vector512<float> acc1 = Vector512<float>.Zero;
            for (; i <= n - (2 * Vector512<float>.Count); i += 2 * Vector512<float>.Count)
            {
                Vector512<float> d0 = Vector512.LoadUnsafe(ref x, (nuint)i) - Vector512.LoadUnsafe(ref y, (nuint)i);
                Vector512<float> d1 = Vector512.LoadUnsafe(ref x, (nuint)(i + Vector512<float>.Count)) - Vector512.LoadUnsafe(ref y, (nuint)(i + Vector512<float>.Count));
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }

            if (i <= n - Vector512<float>.Count)
            {
                Vector512<float> d = Vector512.LoadUnsafe(ref x, (nuint)i) - Vector512.LoadUnsafe(ref y, (nuint)i);
                acc0 = Vector512.FusedMultiplyAdd(d, d, acc0);
                i += Vector512<float>.Count;
            }

            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<float> acc0 = Vector256<float>.Zero;
            Vector256<float> acc1 = Vector256<float>.Zero;
            for (; i <= n - (2 * Vector256<float>.Count); i += 2 * Vector256<float>.Count)
            {
                Vector256<float> d0 = Vector256.LoadUnsafe(ref x, (nuint)i) - Vector256.LoadUnsafe(ref y, (nuint)i);
                Vector256<float> d1 = Vector256.LoadUnsafe(ref x, (nuint)(i + Vector256<float>.Count)) - Vector256.LoadUnsafe(ref y, (nuint)(i + Vector256<float>.Count));
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
            }

            if (i <= n - Vector256<float>.Count)
            {
                Vector256<float> d = Vector256.LoadUnsafe(ref x, (nuint)i) - Vector256.LoadUnsafe(ref y, (nuint)i);
                acc0 = Vector256.FusedMultiplyAdd(d, d, acc0);
                i += Vector256<float>.Count;
            }

            sum = Vector256.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref x, i) - Unsafe.Add(ref y, i);
            sum += d * d;
        }

        return sum;
    }

    /// <summary>The dot product, with the same SIMD scheme as <see cref="SquaredEuclidean"/>. The spans must have the same length.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        if (b.Length != n)
        {
            ThrowLengthMismatch();
        }

        ref float x = ref MemoryMarshal.GetReference(a);
        ref float y = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<float> acc0 = Vector512<float>.Zero;
            Vector512<float> acc1 = Vector512<float>.Zero;
            for (; i <= n - (2 * Vector512<float>.Count); i += 2 * Vector512<float>.Count)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(
                    Vector512.LoadUnsafe(ref x, (nuint)(i + Vector512<float>.Count)), Vector512.LoadUnsafe(ref y, (nuint)(i + Vector512<float>.Count)), acc1);
            }

            if (i <= n - Vector512<float>.Count)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), acc0);
                i += Vector512<float>.Count;
            }

            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<float> acc0 = Vector256<float>.Zero;
            Vector256<float> acc1 = Vector256<float>.Zero;
            for (; i <= n - (2 * Vector256<float>.Count); i += 2 * Vector256<float>.Count)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(
                    Vector256.LoadUnsafe(ref x, (nuint)(i + Vector256<float>.Count)), Vector256.LoadUnsafe(ref y, (nuint)(i + Vector256<float>.Count)), acc1);
            }

            if (i <= n - Vector256<float>.Count)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), acc0);
                i += Vector256<float>.Count;
            }

            sum = Vector256.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
        }

        return sum;
    }

    [DoesNotReturn]
    private static void ThrowLengthMismatch() =>
        throw new ArgumentException("The vectors have different lengths.");

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

        if (metric == DistanceMetric.DotProduct)
        {
            // |a.b| <= |a| |b| (and so is every partial sum of |a_i b_i|): with both lengths at most 2^63 no dot
            // product overflows to infinity, or to NaN (infinity minus infinity), which would corrupt the top-k heaps.
            float length = TensorPrimitives.Norm(source);
            if (!(length <= MaxDotProductLength))
            {
                throw new ArgumentException(
                    $"The {paramName}'s length is {length}; for dot-product distance it must be at most {MaxDotProductLength:G3}, or dot products could overflow to infinity or NaN.",
                    paramName);
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
