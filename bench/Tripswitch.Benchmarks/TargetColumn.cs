using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Tripswitch.Benchmarks;

/// <summary>
/// "vs reference": how many times faster a row is than the row its <see cref="ComparedToAttribute"/> names, measured in
/// the same run (reference mean / this mean), followed by the target, e.g. <c>18.2 (&gt;=15 ok)</c>.
/// </summary>
public sealed class TargetColumn : IColumn
{
    public static readonly TargetColumn Instance = new();

    public string Id => nameof(TargetColumn);

    public string ColumnName => "vs reference";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => false;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Reference row's mean / this row's mean (times faster), the reference named by [ComparedTo] in the same class with the same parameters; in parentheses the issue's target";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ComparedToAttribute? compared = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<ComparedToAttribute>();
        if (compared is null)
        {
            return "-";
        }

        BenchmarkCase? reference = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.Type == benchmarkCase.Descriptor.Type
            && c.Descriptor.WorkloadMethod.Name == compared.Reference
            && c.Parameters.DisplayInfo == benchmarkCase.Parameters.DisplayInfo
            && c.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo);
        double? referenceMean = reference is null ? null : summary[reference]?.ResultStatistics?.Mean;
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (referenceMean is null || mean is null || mean <= 0)
        {
            return $"? ({compared.Reference} not run)";
        }

        double ratio = referenceMean.Value / mean.Value;
        string text = ratio.ToString(ratio >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
        if (compared.AtLeast <= 0)
        {
            return text;
        }

        string verdict = ratio >= compared.AtLeast ? "ok" : "MISS";
        return string.Create(CultureInfo.InvariantCulture, $"{text} (>={compared.AtLeast:0.##} {verdict})");
    }

    public override string ToString() => ColumnName;
}
