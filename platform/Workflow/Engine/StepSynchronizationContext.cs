using System.Collections.Concurrent;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// Runs the continuations of workflow code on the thread that replays it, in the order they were posted, only while
/// the engine pumps it. A continuation posted after the step ended (the workflow awaited something that is not a
/// workflow task) is never run.
/// </summary>
internal sealed class StepSynchronizationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();

    public override void Post(SendOrPostCallback d, object? state) => _posted.Enqueue((d, state));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Workflow code cannot block on its dispatch thread.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs <paramref name="action"/> on this context, then every continuation it set off.</summary>
    public void Run(Action action)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            action();
            while (_posted.TryDequeue(out var posted))
            {
                posted.Callback(posted.State);
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}
