namespace CloudScale.Redis.Benchmarks;

/// <summary>
/// One load shape, run the same way by <c>redis-benchmark -c Callers -P Pipeline -n Requests</c> and by StackExchange.Redis:
/// <see cref="Callers"/> concurrent loops, each sending <see cref="Pipeline"/> commands, waiting for all their replies,
/// then sending the next batch, until <see cref="Requests"/> commands have been sent in all. redis-benchmark gives every
/// caller a connection of its own; StackExchange.Redis's callers share the multiplexer's one connection, as the services do.
/// </summary>
internal sealed record Scenario(string Name, int Callers, int Pipeline, int Requests)
{
    public static IReadOnlyList<Scenario> Defaults { get; } =
    [
        new("1 caller", Callers: 1, Pipeline: 1, Requests: 100_000),
        new("50 callers", Callers: 50, Pipeline: 1, Requests: 300_000),
        new("50 callers, pipeline 16", Callers: 50, Pipeline: 16, Requests: 3_200_000),
    ];

    public Scenario Scaled(double factor) => this with { Requests = Math.Max(Callers * Pipeline, (int)(Requests * factor)) };
}

/// <summary>The commands measured, with the names redis-benchmark's <c>-t</c> option and CSV output use.</summary>
internal enum BenchmarkCommand
{
    Set,
    Get,
}

/// <summary>Throughput and latency of one run; latency is from sending a command's batch to seeing its reply.</summary>
internal sealed record Measurement(double RequestsPerSecond, double P50Milliseconds, double P99Milliseconds);

/// <param name="Round">Which pass over all scenarios this is (1, 2, …): the passes show the spread on a shared machine.</param>
internal sealed record ScenarioResult(int Round, Scenario Scenario, BenchmarkCommand Command, Measurement Client, Measurement RedisBenchmark)
{
    public double ThroughputRatio => Client.RequestsPerSecond / RedisBenchmark.RequestsPerSecond;
}
