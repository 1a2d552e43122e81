using System.Globalization;
using OxiVec.Storage;

namespace OxiVec.Cli.Data;

/// <summary>
/// The records <c>oxivec load</c> writes: record <c>i</c> has id <c>v{i}</c>, metadata <c>{"i": i, "group": i % 10}</c>
/// (longs) and a vector that depends only on (seed, i, dimension), so that any checker can recompute it.
/// </summary>
/// <remarks>
/// The generator (documented in docs/cli.md; all arithmetic on unsigned 64-bit integers, wrapping):
/// <code>
/// mix(z)  = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^ (z >> 31)
/// state   = mix(mix(seed) ^ i)
/// for j in 0..dim-1:
///     state += 0x9E3779B97F4A7C15
///     x      = mix(state)
///     v[j]   = (2 * (x >> 40) - 2^24 + 1) / 2^24
/// </code>
/// That is a SplitMix64 stream seeded from (seed, i), whose top 24 bits become an odd multiple of 2^-24 in (-1, 1):
/// exact in float32, uniform, and never zero, so no vector is zero (cosine collections refuse zero vectors).
/// </remarks>
internal static class DeterministicVectors
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const float Scale = 1f / (1 << 24);

    /// <summary>The id of record <paramref name="index"/>: <c>v{index}</c>.</summary>
    public static string Id(long index) => string.Create(CultureInfo.InvariantCulture, $"v{index}");

    /// <summary>Parses an id made by <see cref="Id"/>.</summary>
    public static bool TryParseId(string id, out long index)
    {
        index = -1;
        return id.Length > 1 && id[0] == 'v' && char.IsAsciiDigit(id[1])
            && long.TryParse(id.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out index)
            && Id(index) == id;
    }

    /// <summary>The vector of record <paramref name="index"/>.</summary>
    public static float[] Vector(long seed, long index, int dimension)
    {
        var vector = new float[dimension];
        Fill(seed, index, vector);
        return vector;
    }

    /// <summary>Writes the vector of record <paramref name="index"/> into <paramref name="destination"/> (its length is the dimension).</summary>
    public static void Fill(long seed, long index, Span<float> destination)
    {
        ulong state = Mix(Mix((ulong)seed) ^ (ulong)index);
        for (int j = 0; j < destination.Length; j++)
        {
            state += Golden;
            long top = (long)(Mix(state) >> 40);
            destination[j] = ((2 * top) - (1 << 24) + 1) * Scale;
        }
    }

    /// <summary>The metadata of record <paramref name="index"/>: <c>{"i": index, "group": index % 10}</c>.</summary>
    public static Dictionary<string, MetadataValue> Metadata(long index) => new(StringComparer.Ordinal)
    {
        ["i"] = index,
        ["group"] = index % 10,
    };

    /// <summary>The SplitMix64 finalizer: a cheap, well-mixed bijection of 64-bit values.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
