using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ZetaPrep.Bench.Kernels;

/// <summary>
/// A short job for a 2-core VM: 1 launch, 3 warm-ups, 10 measured iterations, run in-process (no per-run project build,
/// which needs no network and keeps the whole suite within minutes), allocations measured; one joined summary, whose
/// GitHub-markdown report (DefaultConfig's exporter) `make bench-kernels` copies to docs/BENCHMARKS-kernels.md.
/// </summary>
internal static class KernelConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.ShortRun
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("short-inproc"))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(StatisticColumn.Median)
        .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared))
        .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
}
