using System.Diagnostics;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Store;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Scale;

/// <summary>Everything measured on one data set.</summary>
internal sealed record ScaleDataResult(PeerDataset Data, string Chart, EngineResult Engines, DatabaseResult Database);

/// <summary>
/// The <c>scale</c> verb (issue goal 4): 1M x 128 synthetic and Fashion-MNIST (60,000 x 784, 10,000 queries),
/// OxiVec against USearch in the same run: insert rate, recall@10 vs QPS, resident memory per vector, and through
/// <see cref="VectorDatabase"/> the insert rate, checkpoint time and size, and recovery time. Writes
/// <c>scale.md</c> and one recall/QPS chart per data set.
/// </summary>
internal sealed class ScaleBench(VerbOptions options)
{
    private const string Verb = "scale";

    public int Run()
    {
        bool quick = options.Quick;
        int[] efSweep = quick ? [10, 32, 64, 128, 256] : [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
        var sweep = new EngineSweep(efSweep, quick ? 1 : 3, quick ? 0.05 : 0.5);
        Directory.CreateDirectory(options.OutDir);

        // Fail before any long work when the real data set is missing.
        (float[][] fTrain, float[][] fTest) = FashionMnist.Load();
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            var results = new List<ScaleDataResult>();

            int n = options.SyntheticCount ?? (quick ? 10_000 : 1_000_000);
            int queries = quick ? 200 : 1_000;
            Say(Verb, $"generating {n:N0} x 128 clustered");
            (float[][] points, float[][] qs) = Clustered(n, queries, 128, 100, 0.35, 21);
            var synthetic = new PeerDataset(
                $"{n:N0} x 128",
                $"{n:N0} x 128 synthetic: 100 Gaussian clusters (centres ~ N(0,1), sigma 0.35), {queries:N0} queries from the same distribution, Euclidean",
                points,
                qs);
            results.Add(RunDataset(synthetic, "scale-1m-recall-qps.png", sweep, work));

            int trainN = quick ? 5_000 : fTrain.Length;
            int testN = quick ? 200 : fTest.Length;
            var fashion = new PeerDataset(
                $"Fashion-MNIST {trainN:N0} x 784",
                $"Fashion-MNIST (Debian package dataset-fashion-mnist): {trainN:N0} training images x 784 raw pixel values (0–255) indexed, {testN:N0} test images as queries, Euclidean{(quick ? " (quick: subsets of the 60,000 / 10,000)" : "")}",
                fTrain[..trainN],
                fTest[..testN]);
            results.Add(RunDataset(fashion, "scale-fashion-mnist-recall-qps.png", sweep, work));

            string md = Path.Combine(options.OutDir, "scale.md");
            File.WriteAllText(md, ScaleReport.Write(machine, options, results));
            Say(Verb, $"wrote {md}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private ScaleDataResult RunDataset(PeerDataset data, string chart, EngineSweep sweep, string work)
    {
        Say(Verb, $"{data.Key}: exact ground truth (brute force, all cores)");
        int[][] truth = GroundTruth(data.Points, data.Queries, EngineSweep.K);
        EngineResult engines = sweep.Run(Verb, data, truth);
        PeerReport.Chart(engines.Peer, Path.Combine(options.OutDir, chart));
        DatabaseResult db = ScaleDatabase.Run(Verb, data, Path.Combine(work, "db"));
        return new ScaleDataResult(data, chart, engines, db);
    }
}
