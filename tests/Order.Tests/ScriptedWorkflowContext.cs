using Dapr.Workflow;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudScale.Order.Tests;

/// <summary>
/// A <see cref="WorkflowContext"/> without a backend, in the Dapr quickstarts' style of testing a workflow's decisions:
/// activities are functions the test gives, external events and timers happen when the test says so, and the workflow
/// runs on the test's thread (a completed event or timer resumes it before <see cref="RaiseEvent"/> or
/// <see cref="FireTimers"/> returns). An activity that throws is called as many times as its retry policy allows, then
/// fails the task with <see cref="WorkflowTaskFailedException"/>, as the SDK reports an activity that used up its retries.
/// </summary>
internal sealed class ScriptedWorkflowContext(string instanceId) : WorkflowContext
{
    private readonly Dictionary<string, Func<object?, object?>> _activities = new(StringComparer.Ordinal);
    private readonly List<(string Name, TaskCompletionSource<object?> Waiter)> _eventWaiters = [];
    private readonly List<(string Name, object? Payload)> _bufferedEvents = [];
    private readonly List<TaskCompletionSource> _timers = [];

    public override string Name => "BookingSagaWorkflow";

    public override string InstanceId => instanceId;

    public override DateTime CurrentUtcDateTime => new(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public override bool IsReplaying => false;

    /// <summary>The last custom status the workflow set.</summary>
    public object? CustomStatus { get; private set; }

    /// <summary>Replaces (or adds) the activity <paramref name="name"/> with a function of its input.</summary>
    public void SetActivity<TInput, TOutput>(string name, Func<TInput, TOutput> implementation) =>
        _activities[name] = input => implementation((TInput)input!);

    /// <summary>Delivers an external event to the oldest waiter for it, or keeps it for the next one, as the backend does.</summary>
    public void RaiseEvent(string name, object? payload)
    {
        var waiter = _eventWaiters.FindIndex(waiting => waiting.Name == name && !waiting.Waiter.Task.IsCompleted);
        if (waiter < 0)
        {
            _bufferedEvents.Add((name, payload));
            return;
        }

        var (_, completion) = _eventWaiters[waiter];
        _eventWaiters.RemoveAt(waiter);
        completion.SetResult(payload);
    }

    /// <summary>Fires every timer still pending, whatever its duration.</summary>
    public void FireTimers()
    {
        foreach (var timer in _timers.ToList())
        {
            timer.TrySetResult();
        }
    }

    public override Task<T> CallActivityAsync<T>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        var activity = _activities.TryGetValue(name, out var registered) ? registered : throw new InvalidOperationException($"No activity {name}.");
        var attempts = options?.RetryPolicy?.MaxNumberOfAttempts ?? 1;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Task.FromResult((T)activity(input)!);
            }
            catch (Exception failure) when (attempt >= attempts)
            {
                return Task.FromException<T>(new WorkflowTaskFailedException($"Task '{name}' failed.", new WorkflowTaskFailureDetails(failure.GetType().FullName!, failure.Message, failure.StackTrace)));
            }
            catch (Exception)
            {
                // Retried by the policy, as the SDK does after the policy's back-off.
            }
        }
    }

    public override Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null) =>
        CallActivityAsync<object?>(name, input, options);

    public override Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        var timer = new TaskCompletionSource();
        cancellationToken.Register(() => timer.TrySetCanceled(cancellationToken));
        _timers.Add(timer);
        return timer.Task;
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) =>
        CreateTimer(fireAt - CurrentUtcDateTime, cancellationToken);

    public override async Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default)
    {
        var buffered = _bufferedEvents.FindIndex(raised => raised.Name == eventName);
        if (buffered >= 0)
        {
            var payload = _bufferedEvents[buffered].Payload;
            _bufferedEvents.RemoveAt(buffered);
            return (T)payload!;
        }

        var waiter = new TaskCompletionSource<object?>();
        cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
        _eventWaiters.Add((eventName, waiter));
        return (T)(await waiter.Task)!;
    }

    public override Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout) =>
        throw new NotSupportedException("The booking saga races its own timer against the event.");

    public override void SetCustomStatus(object? customStatus) => CustomStatus = customStatus;

    public override void SendEvent(string instanceId, string eventName, object payload) =>
        throw new NotSupportedException();

    public override Task<TResult> CallChildWorkflowAsync<TResult>(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null) =>
        throw new NotSupportedException();

    public override Task CallChildWorkflowAsync(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null) =>
        throw new NotSupportedException();

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        throw new NotSupportedException();

    public override Guid NewGuid() => Guid.NewGuid();

    public override bool IsPatched(string patchName) => true;

    public override PropagatedHistory? GetPropagatedHistory() => null;

    public override ILogger CreateReplaySafeLogger(string categoryName) => NullLogger.Instance;

    public override ILogger CreateReplaySafeLogger(Type type) => NullLogger.Instance;

    public override ILogger<T> CreateReplaySafeLogger<T>() => NullLogger<T>.Instance;
}
