using System.Diagnostics;
using StackExchange.Redis;

namespace CloudScale.Redis.Benchmarks;

/// <summary>
/// Drives StackExchange.Redis with redis-benchmark's load shape (see <see cref="Scenario"/>). Like redis-benchmark, it records one
/// latency per command, measured from the moment its batch is sent; redis-benchmark stops that clock when the first
/// reply of the batch arrives, this one when the caller sees the command's own reply, so it can only read higher.
/// </summary>
internal sealed class ClientLoad(IDatabase database)
{
    public Task<Measurement> RunAsync(Scenario scenario, BenchmarkCommand command) => command switch
    {
        BenchmarkCommand.Set => RunAsync(scenario, () => database.StringSetAsync(BenchmarkData.Key, BenchmarkData.Value), written => written),
        // Either tool may have written the value last, so any value of the benchmark's size is the right one.
        _ => RunAsync(scenario, () => database.StringGetAsync(BenchmarkData.Key), value => ((ReadOnlyMemory<byte>)value).Length == BenchmarkData.ValueSize),
    };

    private static async Task<Measurement> RunAsync<TReply>(Scenario scenario, Func<Task<TReply>> send, Func<TReply, bool> isExpected)
    {
        var latencies = new long[scenario.Requests];
        var claimed = 0;
        var unexpected = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, scenario.Callers).Select(_ => Task.Run(CallerAsync)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        if (unexpected > 0)
        {
            throw new InvalidOperationException($"{unexpected} of {scenario.Requests} replies were not what the benchmark writes.");
        }

        Array.Sort(latencies);
        return new Measurement(scenario.Requests / elapsed.TotalSeconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99));

        async Task CallerAsync()
        {
            var batch = new Task<TReply>[scenario.Pipeline];
            while (true)
            {
                // Callers claim whole batches from one budget, as redis-benchmark's clients share its -n.
                var first = Interlocked.Add(ref claimed, scenario.Pipeline) - scenario.Pipeline;
                if (first >= scenario.Requests)
                {
                    return;
                }

                var size = Math.Min(scenario.Pipeline, scenario.Requests - first);
                var sent = Stopwatch.GetTimestamp();
                for (var index = 0; index < size; index++)
                {
                    batch[index] = send();
                }

                for (var index = 0; index < size; index++)
                {
                    if (!isExpected(await batch[index]))
                    {
                        Interlocked.Increment(ref unexpected);
                    }

                    latencies[first + index] = Stopwatch.GetTimestamp() - sent;
                }
            }
        }
    }

    private static double Percentile(long[] sortedTicks, double percentile)
    {
        var rank = Math.Max(0, (int)Math.Ceiling(percentile * sortedTicks.Length) - 1);
        return sortedTicks[rank] * 1000.0 / Stopwatch.Frequency;
    }
}
