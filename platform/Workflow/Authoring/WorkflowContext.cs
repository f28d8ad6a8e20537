using Microsoft.Extensions.Logging;

namespace Dapr.Workflow;

/// <summary>
/// What a workflow uses to do anything durable. Every method records its call in the instance's history, and on replay
/// the recorded outcome is returned instead of doing the work again, so the workflow must call them in the same order on
/// every replay and must not await anything else (no <c>Task.Delay</c>, I/O, <c>Task.Run</c> or <c>ConfigureAwait(false)</c>).
/// </summary>
public abstract class WorkflowContext
{
    public abstract string Name { get; }

    public abstract string InstanceId { get; }

    /// <summary>The time the current step started, the same on every replay: use it instead of <see cref="DateTime.UtcNow"/>.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the workflow re-runs steps whose outcome is already in its history.</summary>
    public abstract bool IsReplaying { get; }

    public virtual Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null) =>
        CallActivityAsync<object?>(name, input, options);

    /// <summary>Schedules an activity and returns its result; a failure surfaces as <see cref="WorkflowTaskFailedException"/>.</summary>
    public abstract Task<T> CallActivityAsync<T>(string name, object? input = null, WorkflowTaskOptions? options = null);

    /// <summary>A durable timer: it survives restarts and fires on whichever replica runs the instance then.</summary>
    public abstract Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default);

    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>Waits for an event raised on this instance; names are case-insensitive and early events are buffered.</summary>
    public abstract Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="WaitForExternalEventAsync{T}(string, CancellationToken)"/>, throwing <see cref="TaskCanceledException"/> once <paramref name="timeout"/> has passed.</summary>
    public abstract Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout);

    /// <summary>Raises an event on another workflow instance once this step is saved.</summary>
    public abstract void SendEvent(string instanceId, string eventName, object payload);

    /// <summary>A value clients see in <see cref="WorkflowState.ReadCustomStatusAs{T}"/>, saved with the step.</summary>
    public abstract void SetCustomStatus(object? customStatus);

    public virtual Task CallChildWorkflowAsync(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null) =>
        CallChildWorkflowAsync<object?>(workflowName, input, options);

    /// <summary>Starts a child workflow and returns its output; a failure surfaces as <see cref="WorkflowTaskFailedException"/>.</summary>
    public abstract Task<TResult> CallChildWorkflowAsync<TResult>(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null);

    /// <summary>
    /// Ends this run once the workflow returns and starts it again with <paramref name="newInput"/> and an empty history,
    /// which keeps eternal workflows' histories bounded. Events not yet consumed carry over when
    /// <paramref name="preserveUnprocessedEvents"/> is true.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A GUID that is the same on every replay.</summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that stays silent while the workflow replays, so each message is written once.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);

    public virtual ILogger CreateReplaySafeLogger(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return CreateReplaySafeLogger(type.FullName ?? type.Name);
    }

    public virtual ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T));
}
