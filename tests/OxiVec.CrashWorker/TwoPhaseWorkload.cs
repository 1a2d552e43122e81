using System.Globalization;
using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.CrashWorker;

/// <summary>
/// The workload of <c>crash-2pc-worker</c>, deterministic so the checker can rebuild what every participant must
/// hold. Transaction <c>n</c> (gid <c>t{n}</c>) upserts record <c>{n % 5}</c> (ids are numbers: remote participants take Qdrant point ids) of collection <see cref="Collection"/>
/// on every participant, with metadata <c>{"tx": n}</c>; when <see cref="VotesNo"/> says so it also deletes a record
/// that never exists on one participant, so that participant votes no and the transaction must roll back everywhere.
/// </summary>
internal static class TwoPhaseWorkload
{
    public const string Collection = "c";
    public const int Keys = 5;
    public const string CoordinatorId = "crash-coordinator";

    public static CollectionOptions Options => new(2);

    public static string Gid(long n) => string.Create(CultureInfo.InvariantCulture, $"t{n}");

    public static string Key(long n) => (n % Keys).ToString(CultureInfo.InvariantCulture);

    /// <summary>Which participant (index) votes no in transaction <paramref name="n"/>, or -1: about one transaction in five.</summary>
    public static int VotesNo(long seed, long n, int participants) => (ulong)(seed + (n * 7)) % 5 == 0 ? (int)(n % participants) : -1;

    /// <summary>The operations of transaction <paramref name="n"/> for participant <paramref name="p"/>.</summary>
    public static IReadOnlyList<TransactionOperation> Operations(long seed, long n, int p, int participants)
    {
        var metadata = new Dictionary<string, MetadataValue> { ["tx"] = MetadataValue.From(n) };
        List<TransactionOperation> ops = [TransactionOperation.Upsert(Collection, Key(n), new float[] { n, p + 1 }, metadata)];
        if (VotesNo(seed, n, participants) == p)
        {
            ops.Add(TransactionOperation.Delete(Collection, string.Create(CultureInfo.InvariantCulture, $"{1_000_000 + n}")));
        }

        return ops;
    }

    /// <summary>Steps the coordinator reports per transaction: begin, decision and end, and four per participant.</summary>
    public static int StepsPerTransaction(int participants) => 3 + (4 * participants);
}
