using System.Diagnostics;

namespace CloudScale.Sidecar.Benchmarks;

/// <summary>Latency percentiles, throughput, and the CPU time each process spent per operation, in µs.</summary>
internal sealed record LatencySummary(
    int Callers, long Operations, double P50Ms, double P90Ms, double P99Ms, double PerSecond, IReadOnlyDictionary<string, double> CpuMicrosecondsPerOperation);

internal static class Latency
{
    /// <summary>Runs <paramref name="operation"/> from <paramref name="callers"/> concurrent loops for <paramref name="duration"/>
    /// after a warm-up, recording every call's latency and the CPU time of the processes <paramref name="cpu"/> watches.</summary>
    public static async Task<LatencySummary> MeasureAsync(Func<Task> operation, int callers, TimeSpan duration, TimeSpan warmUp, CpuMeter cpu)
    {
        await RunAsync(operation, callers, warmUp, record: null);
        var samples = new List<double>[callers];
        var cpuBefore = cpu.Read();
        var total = Stopwatch.StartNew();
        await RunAsync(operation, callers, duration, samples);
        total.Stop();
        var cpuAfter = cpu.Read();
        var all = samples.SelectMany(list => list).Order().ToArray();
        return new LatencySummary(callers, all.Length, Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99), all.Length / total.Elapsed.TotalSeconds,
            CpuMeter.MicrosecondsPerOperation(cpuBefore, cpuAfter, all.Length));
    }

    private static Task RunAsync(Func<Task> operation, int callers, TimeSpan duration, List<double>[]? record) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var mine = new List<double>(capacity: 100_000);
            var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < end)
            {
                var start = Stopwatch.GetTimestamp();
                await operation();
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            if (record is not null)
            {
                record[caller] = mine;
            }
        })));

    private static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
}

internal sealed record ScenarioResult(string Operation, int Callers, LatencySummary Direct, LatencySummary ThroughSidecar, double AddedP50Ms);

/// <summary>A state get through one bare hop beside the same get through the sidecar (<paramref name="SidecarOperation"/>), at the same callers.</summary>
internal sealed record HopResult(string Operation, string SidecarOperation, int Callers, LatencySummary BareHop, LatencySummary Sidecar);

internal sealed record BenchmarkReport(
    string Sidecar, int Cores, double SecondsPerMeasurement, IReadOnlyList<ScenarioResult> Results, IReadOnlyList<HopResult> BareHops, IReadOnlyList<SidecarMemory> SidecarMemory);

/// <summary>A sidecar's memory in MB at the end of the run, and its peak resident set during it.</summary>
internal sealed record SidecarMemory(string AppId, double ResidentMb, double PeakResidentMb, double AnonymousMb, double ProportionalMb);
