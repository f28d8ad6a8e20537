using System.Collections.Concurrent;
using System.Diagnostics;

namespace CloudScale.Workflow.Benchmarks;

/// <summary>
/// Learns that an instance finished from the engine's own step spans (<c>workflow.runtime_status</c> set on the committing
/// step), so that waiting for 50 workflows does not add 50 pollers of the state store to what is measured.
/// </summary>
internal sealed class CompletionWatcher : IDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);
    private readonly ActivityListener _listener;

    public CompletionWatcher()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "CloudScale.Workflow",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Completes when <paramref name="instanceId"/> has committed its final step; call before scheduling it.</summary>
    public Task CompletionOf(string instanceId) =>
        _waiting.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Dispose() => _listener.Dispose();

    private void Stopped(Activity span)
    {
        if (span.GetTagItem("workflow.runtime_status") is "Completed" or "Failed" or "Terminated"
            && span.GetTagItem("workflow.instance_id") is string instanceId
            && _waiting.TryRemove(instanceId, out var completion))
        {
            completion.SetResult();
        }
    }
}
