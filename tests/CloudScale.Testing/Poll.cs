using System.Diagnostics;

namespace CloudScale.Testing;

/// <summary>Waits for a condition by polling it until a deadline: the tests' only way to wait.</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, Func<string>? describeFailure = null) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, describeFailure);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string>? describeFailure = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > deadline)
            {
                throw new TimeoutException($"Condition not met within {deadline.TotalSeconds:0.#} s. {describeFailure?.Invoke()}");
            }

            await Task.Delay(Interval);
        }
    }

    /// <summary>Polls <paramref name="probe"/> until its value satisfies <paramref name="accept"/>; returns that value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> accept, TimeSpan deadline)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (accept(value))
            {
                return value;
            }

            if (stopwatch.Elapsed > deadline)
            {
                throw new TimeoutException($"Last value {value} not accepted within {deadline.TotalSeconds:0.#} s.");
            }

            await Task.Delay(Interval);
        }
    }
}
