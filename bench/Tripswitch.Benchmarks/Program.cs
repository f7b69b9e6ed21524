using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;
using Tripswitch.Benchmarks;

// Everything, full accuracy:   dotnet run -c Release --project bench/Tripswitch.Benchmarks -- --filter '*'
// Every row once (BenchmarkDotNet's dry job, checks nothing throws):  ... -- --filter '*' --job Dry
// Fastest check, in-process, no BenchmarkDotNet build (seconds):       ... -- --smoke [name filter]
// Two-thread scaling cross-check outside BenchmarkDotNet (best of 180 batches):  ... -- --scaling
// Heap bytes per circuit, 20,000-circuit registry, vs Polly's registry (fresh process per row): ... -- --memory
// Where a cold circuit's bytes go, object by object:                  ... -- --memory-breakdown
if (args.Length > 0 && args[0] == "--memory-breakdown")
{
    return MemoryBreakdown.Run();
}

if (args.Length > 0 && args[0] == "--scaling")
{
    return ScalingProbe.Run();
}

if (args.Length > 0 && args[0].StartsWith("--memory", StringComparison.Ordinal))
{
    return MemoryProbe.Run(args);
}

if (args.Length > 0 && args[0] == "--smoke")
{
    return SmokeRunner.Run(typeof(Program).Assembly, args.Skip(1).FirstOrDefault());
}

IConfig config = DefaultConfig.Instance
    .AddColumn(TargetColumn.Instance, ScalingColumn.Instance)
    .WithSummaryStyle(SummaryStyle.Default.WithTimeUnit(TimeUnit.Nanosecond));

IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

// A row that threw or failed to build makes the whole run fail, so a dry run is a real check.
bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
return failed ? 1 : 0;
