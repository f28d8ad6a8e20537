namespace CloudScale.Workflow.Engine;

/// <summary>
/// A wake-up call for waiters in this process: take <see cref="Next"/> before looking at the store, then wait on it, so
/// that a change made in between is never missed. Other processes' changes are seen by polling.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Next => Volatile.Read(ref _next).Task;

    public void Set() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for <paramref name="signal"/> or for <paramref name="timeout"/> (real time: it bounds how stale a poll may be).</summary>
    public static async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, stop.Token);
        await Task.WhenAny(signal, delay);
        await stop.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}
