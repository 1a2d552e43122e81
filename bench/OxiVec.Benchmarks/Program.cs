using BenchmarkDotNet.Running;

namespace OxiVec.Benchmarks;

/// <summary>
/// Entry point. A verb of <see cref="Verbs"/> (without one: <c>wal</c>, the macro WAL benchmark);
/// <c>all</c>: every verb, then <c>readme</c>; <c>readme</c>: the README's performance table from the reports;
/// <c>micro [BenchmarkDotNet arguments]</c>: the BenchmarkDotNet micro benchmarks (record encoding, CRC-32C).
/// </summary>
internal static class Program
{
    /// <summary>
    /// The one list of verbs: registering a verb is one line here. <c>all</c> runs every verb of this list, in this
    /// order, with the same <c>--quick</c>, <c>--out DIR</c> and <c>--allow-dirty</c>, then <c>readme</c>;
    /// <c>readme</c> orders the README's rows by it. See <see cref="BenchVerb"/> for what a verb must do.
    /// </summary>
    public static IReadOnlyList<BenchVerb> Verbs { get; } =
    [
        new("wal", "WAL commits vs the disk, FasterLog and SQLite (the default verb)", Macro.MacroHarness.RunVerb),
        new("store", "inserts with and without the WAL; recall@10 against QPS, exact search and USearch", args => new Store.StoreBench(Store.VerbOptions.Parse("store", args)).Run()),
        new("recovery", "replay speed, recovery time against the checkpoint interval, checkpoint cost", args => new RecoveryBench.RecoveryHarness(Store.VerbOptions.Parse("recovery", args)).Run()),
        new("profiles", "the guide's profile table against a WAL-off baseline", args => new Profiles.ProfileBench(Profiles.ProfileOptions.Parse(args)).Run()),
        new("stall", "the longest insert during a checkpoint of a large flat and HNSW store", args => new Scale.StallBench(Store.VerbOptions.Parse("stall", args)).Run()),
        new("concurrency", "an HNSW collection's upserts and searches alone and together; 1- vs 2-thread build", args => new Scale.ConcurrencyBench(Store.VerbOptions.Parse("concurrency", args)).Run()),
        new("coldrecovery", "recovery of 1M WAL entries with a warm and a cold page cache", args => new Scale.ColdRecoveryBench(Store.VerbOptions.Parse("coldrecovery", args)).Run()),
        new("server", "search and upsert over HTTP (Qdrant REST) against the embedded API; wrk when installed", Server.ServerBench.RunVerb),
        new("replication", "commits with async, sync and quorum standbys over gRPC against local only; catch-up and base backup", Replication.ReplicationBench.RunVerb),
        new("failover", "the primary of a 3-node etcd cluster SIGKILLed under writes: time to the new primary's first ack, writes lost per mode", Failover.FailoverBench.RunVerb),
        new("scale", "1M x 128 and Fashion-MNIST against USearch (needs bench/scripts/install-datasets.sh)", args => new Scale.ScaleBench(Store.VerbOptions.Parse("scale", args)).Run()),
    ];

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "micro")
        {
            // In process (see MicroConfig): no generated project, so the repository's warnings-as-errors build
            // rules and the internal types are no obstacle.
            _ = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(Micro.MicroConfig.Arguments(args[1..]), new Micro.MicroConfig());
            return 0;
        }

        try
        {
            if (args.Length > 0 && args[0] is "-h" or "--help")
            {
                Console.WriteLine(Macro.HarnessOptions.Usage);
                Console.WriteLine("Verbs:");
                foreach (BenchVerb v in Verbs)
                {
                    Console.WriteLine($"  {v.Name,-10} {v.Summary}");
                }

                Console.WriteLine($"  {"all",-10} every verb above on one code state, then readme ({Trust.AllVerb.Usage})");
                Console.WriteLine($"  {"readme",-10} the README's performance table from the reports ({Trust.ReadmeVerb.Usage})");
                Console.WriteLine($"  {"micro",-10} the BenchmarkDotNet micro benchmarks");
                return 0;
            }

            return args.Length > 0 && args[0] == "all" ? Trust.AllVerb.Run(args[1..])
                : args.Length > 0 && args[0] == "readme" ? Trust.ReadmeVerb.Run(args[1..])
                : args.Length > 0 && Verbs.FirstOrDefault(v => v.Name == args[0]) is { } verb ? verb.Run(args[1..])
                : Verbs[0].Run(args);
        }
#pragma warning disable CA1031 // The harness's contract: any failure is one line on stderr and exit code 1.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            string message = ex.Message.ReplaceLineEndings(" ");
            Console.Error.WriteLine($"oxivec-bench: error: {ex.GetType().Name}: {message}");
            return 1;
        }
    }
}
