using System.Buffers.Binary;
using System.Globalization;

namespace OxiVec.CrashWorker;

/// <summary>
/// The crash worker's workload, deterministic so that a checker can recompute what every acknowledged record must
/// hold. Operation <c>n</c> (1, 2, ...) is a single insert with id <c>v{n}</c>, or, every K-th operation, a transaction
/// of 2 to 5 inserts with ids <c>v{n}.0</c>, <c>v{n}.1</c>, ... Vectors and metadata are derived from (seed, n, member).
/// </summary>
internal static class CrashWorkload
{
    /// <summary>The collection every record is logged to.</summary>
    public const string Collection = "crash";

    /// <summary>The member index used for single (non-transactional) inserts.</summary>
    public const int Single = -1;

    /// <summary>The id of operation <paramref name="n"/>'s insert, or of member <paramref name="member"/> of its transaction.</summary>
    public static string Id(long n, int member = Single) => member == Single
        ? string.Create(CultureInfo.InvariantCulture, $"v{n}")
        : string.Create(CultureInfo.InvariantCulture, $"v{n}.{member}");

    /// <summary>Parses an id made by <see cref="Id"/>.</summary>
    public static bool TryParseId(string id, out long n, out int member)
    {
        n = 0;
        member = Single;
        if (!id.StartsWith('v'))
        {
            return false;
        }

        ReadOnlySpan<char> rest = id.AsSpan(1);
        int dot = rest.IndexOf('.');
        if (dot >= 0)
        {
            if (!int.TryParse(rest[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out member))
            {
                return false;
            }

            rest = rest[..dot];
        }

        return long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out n);
    }

    /// <summary>Whether operation <paramref name="n"/> is a transaction, with a transaction every <paramref name="txEvery"/> operations (0: never).</summary>
    public static bool IsTransaction(long n, int txEvery) => txEvery > 0 && n % txEvery == 0;

    /// <summary>How many members operation <paramref name="n"/>'s transaction has: 2 to 5.</summary>
    public static int TransactionSize(int seed, long n) => 2 + (int)(Hash(seed, n, 0x7478) % 4);

    /// <summary>The vector of operation <paramref name="n"/> (member <paramref name="member"/>): values in [-1, 1).</summary>
    public static float[] Vector(int seed, long n, int member, int dimension)
    {
        ulong state = Hash(seed, n, member);
        var vector = new float[dimension];
        for (int i = 0; i < vector.Length; i++)
        {
            state = Mix(state + 0x9E3779B97F4A7C15UL);
            vector[i] = ((int)(state >> 40) - (1 << 23)) / (float)(1 << 23);
        }

        return vector;
    }

    /// <summary>The metadata of operation <paramref name="n"/> (member <paramref name="member"/>): n and member, little-endian.</summary>
    public static byte[] Metadata(long n, int member)
    {
        var bytes = new byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, n);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), member);
        return bytes;
    }

    private static ulong Hash(int seed, long n, int salt) =>
        Mix(Mix(((ulong)(uint)seed << 32) ^ (uint)salt) ^ (ulong)n);

    /// <summary>The SplitMix64 finalizer: a cheap, well-mixed bijection of 64-bit values.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
