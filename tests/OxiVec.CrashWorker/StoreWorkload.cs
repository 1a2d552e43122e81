using System.Globalization;
using OxiVec.Cli.Data;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.CrashWorker;

/// <summary>
/// The workload of <c>crash-store-worker</c>, deterministic so that a checker can rebuild the exact state the
/// database must hold after any number of transactions. Transaction <c>n</c> (1, 2, ...) writes <em>pairs</em>: a write
/// of suffix <c>s</c> goes to id <c>a{s}</c> in collection <see cref="A"/> and to id <c>b{s}</c> in collection
/// <see cref="B"/>, in the same transaction, so after any crash <c>a{s}</c> exists if and only if <c>b{s}</c> does.
/// </summary>
/// <remarks>
/// Transaction <c>n</c>: inserts pair <c>{n}</c>; every 7th also inserts 4 to 20 pairs <c>{n}.{j}</c> (large
/// transactions); and, for n &gt; 1, touches an earlier pair <c>{m}</c> (m in 1..n-1, from a hash of seed and n):
/// an upsert (which re-creates it when deleted), or a delete or an update when it exists, or nothing. A record written
/// by transaction <c>n</c> has metadata <c>{"tx": n}</c> and the vector <see cref="Vector"/>(seed, n, id).
/// </remarks>
internal static class StoreWorkload
{
    /// <summary>The first collection (HNSW, Euclidean).</summary>
    public const string A = "a";

    /// <summary>The second collection (flat, dot product).</summary>
    public const string B = "b";

    public enum Kind
    {
        Insert,
        Upsert,
        Update,
        Delete,
    }

    /// <summary>One write of a pair: <paramref name="Kind"/> of <c>a{Suffix}</c> in A and <c>b{Suffix}</c> in B.</summary>
    public readonly record struct Step(Kind Kind, string Suffix);

    public static CollectionOptions OptionsA(int dimension) => new(dimension)
    {
        Metric = DistanceMetric.Euclidean,
        Index = IndexKind.Hnsw,
        Hnsw = new HnswParameters { M = 8, EfConstruction = 32, EfSearch = 32 },
    };

    public static CollectionOptions OptionsB(int dimension) => new(dimension) { Metric = DistanceMetric.DotProduct, Index = IndexKind.Flat };

    /// <summary>The writes of transaction <paramref name="n"/>, given which pairs exist before it.</summary>
    public static List<Step> Transaction(long seed, long n, Func<string, bool> exists)
    {
        var steps = new List<Step> { new(Kind.Insert, Suffix(n)) };
        ulong hash = DeterministicVectors.Mix(DeterministicVectors.Mix((ulong)seed ^ 0x5EED) ^ (ulong)n);
        if (n % 7 == 0)
        {
            int bulk = 4 + (int)(hash % 17);
            for (int j = 0; j < bulk; j++)
            {
                steps.Add(new Step(Kind.Insert, string.Create(CultureInfo.InvariantCulture, $"{n}.{j}")));
            }
        }

        if (n > 1)
        {
            string target = Suffix(1 + (long)((hash >> 20) % (ulong)(n - 1)));
            switch ((hash >> 8) % 5)
            {
                case 0:
                    steps.Add(new Step(Kind.Upsert, target));
                    break;
                case 1 when exists(target):
                    steps.Add(new Step(Kind.Delete, target));
                    break;
                case 2 when exists(target):
                    steps.Add(new Step(Kind.Update, target));
                    break;
                default:
                    break;
            }
        }

        return steps;
    }

    /// <summary>The vector of record <paramref name="id"/> as written by transaction <paramref name="n"/>: values in (-1, 1).</summary>
    public static float[] Vector(long seed, long n, string id, int dimension)
    {
        ulong idHash = 0xCBF29CE484222325UL; // FNV-1a over the id's UTF-16 code units
        foreach (char c in id)
        {
            idHash = (idHash ^ c) * 0x100000001B3UL;
        }

        return DeterministicVectors.Vector(seed ^ (long)idHash, n, dimension);
    }

    /// <summary>The metadata of a record written by transaction <paramref name="n"/>: <c>{"tx": n}</c>.</summary>
    public static Dictionary<string, MetadataValue> Metadata(long n) => new(StringComparer.Ordinal) { ["tx"] = n };

    /// <summary>The suffix of transaction <paramref name="n"/>'s own pair: <c>n</c>.</summary>
    public static string Suffix(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The transaction number of a plain suffix (<c>"12"</c>), or null for a bulk one (<c>"14.3"</c>).</summary>
    public static long? TransactionOf(string suffix) =>
        long.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && Suffix(n) == suffix ? n : null;

    /// <summary>
    /// The last committed transaction, from the suffixes present in A: transaction n inserts pair {n} and no later
    /// transaction exists to delete it, so it is the largest plain suffix (0 for none).
    /// </summary>
    public static long LastTransaction(IEnumerable<string> suffixes) =>
        suffixes.Select(s => TransactionOf(s) ?? 0).DefaultIfEmpty(0).Max();

    /// <summary>The state after transactions 1..n: each existing pair's suffix and the transaction that wrote it last.</summary>
    public static Dictionary<string, long> Model(long seed, long transactions)
    {
        var pairs = new Dictionary<string, long>(StringComparer.Ordinal);
        for (long n = 1; n <= transactions; n++)
        {
            foreach (Step step in Transaction(seed, n, pairs.ContainsKey))
            {
                if (step.Kind == Kind.Delete)
                {
                    pairs.Remove(step.Suffix);
                }
                else
                {
                    pairs[step.Suffix] = n;
                }
            }
        }

        return pairs;
    }
}
