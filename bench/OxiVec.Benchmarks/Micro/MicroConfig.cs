using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace OxiVec.Benchmarks.Micro;

/// <summary>
/// The micro benchmarks' configuration: BenchmarkDotNet's defaults plus a throughput column. They always run in
/// process (see <see cref="Arguments"/>): the benchmarks use OxiVec's internal types through InternalsVisibleTo,
/// and the project BenchmarkDotNet would otherwise generate inherits the repository's warnings-as-errors rules.
/// </summary>
internal sealed class MicroConfig : ManualConfig
{
    public MicroConfig()
    {
        Add(DefaultConfig.Instance);
        AddColumn(new ThroughputColumn());
    }

    /// <summary>The command-line arguments with <c>--inProcess</c> added, so that every job (also <c>--job dry</c>) runs in process.</summary>
    public static string[] Arguments(string[] args) =>
        args.Any(a => a is "--inProcess" or "-i") ? args : [.. args, "--inProcess"];
}

/// <summary>MB/s (10^6 bytes) processed: the bytes one invocation handles (<see cref="IBytesPerOperation"/>) over the mean time.</summary>
internal sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Megabytes (10^6 bytes) processed per second by one invocation";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        object? size = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(Crc32CBenchmarks.Size))?.Value;
        long bytes = size is int s ? s : RecordEncodingBenchmarks.RecordBytes;
        return meanNs is > 0 ? (bytes / meanNs.Value * 1e3).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "–";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
