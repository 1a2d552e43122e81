using BenchmarkDotNet.Running;
using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks;

/// <summary>
/// Entry point. Without a verb: the macro WAL benchmark (<see cref="MacroHarness"/>).
/// <c>micro [BenchmarkDotNet arguments]</c>: the BenchmarkDotNet micro benchmarks (record encoding, CRC-32C).
/// </summary>
internal static class Program
{
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
            if (args.Length > 0 && args[0] == "store")
            {
                return new Store.StoreBench(Store.VerbOptions.Parse("store", args[1..])).Run();
            }

            if (args.Length > 0 && args[0] == "recovery")
            {
                return new RecoveryBench.RecoveryHarness(Store.VerbOptions.Parse("recovery", args[1..])).Run();
            }

            if (Scale.ScaleVerbs.TryRun(args, out int scaleExit))
            {
                return scaleExit;
            }

            if (args.Length > 0 && args[0] == "profiles")
            {
                return new Profiles.ProfileBench(Profiles.ProfileOptions.Parse(args[1..])).Run();
            }

            HarnessOptions options = HarnessOptions.Parse(args);
            if (options.ShowHelp)
            {
                Console.WriteLine(HarnessOptions.Usage);
                return 0;
            }

            return new MacroHarness(options).Run();
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
