using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Tripswitch.Benchmarks;

/// <summary>
/// "Scaling" of the multi-threaded rows: the aggregate throughput of this row relative to the same benchmark with one
/// thread (one-thread mean per call / this mean per call). 2.00 is perfect scaling on two threads.
/// </summary>
public sealed class ScalingColumn : IColumn
{
    public static readonly ScalingColumn Instance = new();

    private const string ThreadsParameter = nameof(ContentionBenchmarks.Threads);

    public string Id => nameof(ScalingColumn);

    public string ColumnName => "Scaling";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Aggregate throughput relative to the same benchmark on 1 thread (target for Tripswitch: >= 1.5 on 2 threads)";

    public bool IsAvailable(Summary summary)
        => summary.BenchmarksCases.Any(c => c.Parameters.Items.Any(p => p.Name == ThreadsParameter));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (!benchmarkCase.Parameters.Items.Any(p => p.Name == ThreadsParameter))
        {
            return "-";
        }

        BenchmarkCase? single = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.Type == benchmarkCase.Descriptor.Type
            && c.Descriptor.WorkloadMethod == benchmarkCase.Descriptor.WorkloadMethod
            && c.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo
            && Equals(c.Parameters[ThreadsParameter], 1));
        double? singleMean = single is null ? null : summary[single]?.ResultStatistics?.Mean;
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (singleMean is null || mean is null || mean <= 0)
        {
            return "?";
        }

        return (singleMean.Value / mean.Value).ToString("0.00", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
