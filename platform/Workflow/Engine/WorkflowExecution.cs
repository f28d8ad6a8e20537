using System.Security.Cryptography;
using System.Text;
using Dapr.Workflow;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// One step of one instance: re-runs the workflow code against its history (replaying), then applies the step's new
/// events, and reports the durable calls the code made that history does not have yet and how the run ended, if it did.
/// All workflow code runs synchronously on a <see cref="StepSynchronizationContext"/>, so replay is deterministic.
/// </summary>
internal sealed class WorkflowExecution : WorkflowContext
{
    // RFC 4122 name-based GUIDs (version 5) under a namespace of our own: NewGuid() is a function of the instance,
    // the step's time and a counter, so a replay returns the same values.
    private static readonly Guid GuidNamespace = new("9e952958-5e33-4daf-827f-2fa12937b875");

    private readonly IWorkflow _workflow;
    private readonly ILoggerFactory _loggers;
    private readonly StepSynchronizationContext _dispatcher = new();
    private readonly Dictionary<int, OpenTask> _openTasks = [];
    private readonly Dictionary<int, TaskScheduledEvent> _unrecordedCalls = [];
    private readonly Dictionary<string, Queue<EventRaised>> _bufferedEvents = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> _acceptedEvents = [];
    private int _lastTaskId;
    private int _guidCount;
    private DateTimeOffset _now;
    private bool _replaying = true;
    private Task<object?>? _run;
    private string? _customStatus;
    private ContinuedAsNew? _continueAsNew;
    private WorkflowTaskFailureDetails? _nondeterminism;

    private WorkflowExecution(string instanceId, string name, IWorkflow workflow, ILoggerFactory loggers)
    {
        InstanceId = instanceId;
        Name = name;
        _workflow = workflow;
        _loggers = loggers;
    }

    public override string Name { get; }

    public override string InstanceId { get; }

    public override DateTime CurrentUtcDateTime => _now.UtcDateTime;

    public override bool IsReplaying => _replaying;

    /// <summary>Replays <paramref name="history"/>, applies <paramref name="newEvents"/> and says what the step did.</summary>
    public static StepResult Run(
        string instanceId, string name, IWorkflow workflow, ILoggerFactory loggers,
        IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryEvent> newEvents)
    {
        var execution = new WorkflowExecution(instanceId, name, workflow, loggers);
        foreach (var past in history)
        {
            execution.Apply(past);
        }

        execution._replaying = false;
        foreach (var next in newEvents)
        {
            if (execution.Apply(next))
            {
                execution._acceptedEvents.Add(next);
            }
        }

        return execution.Result();
    }

    public override async Task<T> CallActivityAsync<T>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var serialized = WorkflowJson.Serialize(input);
        var result = await WithRetries(options?.RetryPolicy, () => Schedule((taskId, now) => new TaskScheduled(now, taskId, name, serialized)).Result);
        return WorkflowJson.Deserialize<T>(result)!;
    }

    public override async Task<TResult> CallChildWorkflowAsync<TResult>(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowName);
        // Every attempt reuses the ID: a retry replaces the failed child rather than leaving several behind.
        var instanceId = options?.InstanceId ?? NewGuid().ToString();
        InstanceIds.ThrowIfInvalid(instanceId);
        var serialized = WorkflowJson.Serialize(input);
        var result = await WithRetries(
            options?.RetryPolicy,
            () => Schedule((taskId, now) => new SubOrchestrationCreated(now, taskId, workflowName, instanceId, serialized)).Result);
        return WorkflowJson.Deserialize<TResult>(result)!;
    }

    public override Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default) =>
        CreateTimer(CurrentUtcDateTime + delay, cancellationToken);

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var fireAtUtc = new DateTimeOffset(fireAt.Kind == DateTimeKind.Local ? fireAt.ToUniversalTime() : DateTime.SpecifyKind(fireAt, DateTimeKind.Utc));
        var (taskId, fired) = Schedule((id, now) => new TimerCreated(now, id, fireAtUtc));
        if (cancellationToken.CanBeCanceled)
        {
            // A durable timer cannot be unscheduled; cancelling forgets it, so the TimerFired that still comes is dropped.
            cancellationToken.Register(() =>
            {
                if (_openTasks.Remove(taskId, out var open))
                {
                    open.Completion.TrySetCanceled(cancellationToken);
                }
            });
        }

        return fired;
    }

    public override Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        EnsureOnDispatcher();
        if (_bufferedEvents.TryGetValue(eventName, out var buffered) && buffered.TryDequeue(out var early))
        {
            return Task.FromResult(WorkflowJson.Deserialize<T>(early.Input)!);
        }

        var waiter = new TaskCompletionSource<string?>();
        var waiters = _eventWaiters.TryGetValue(eventName, out var existing) ? existing : _eventWaiters[eventName] = new();
        var node = waiters.AddLast(waiter);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                node.List?.Remove(node);
                waiter.TrySetCanceled(cancellationToken);
            });
        }

        return Deserialize<T>(waiter.Task);
    }

    public override async Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout)
    {
        using var giveUp = new CancellationTokenSource();
        var timer = CreateTimer(timeout, giveUp.Token);
        var raised = WaitForExternalEventAsync<T>(eventName, giveUp.Token);
        var first = await Task.WhenAny(raised, timer);
        giveUp.Cancel();
        if (first == timer)
        {
            throw new TaskCanceledException($"No '{eventName}' event arrived within {timeout}.");
        }

        return await raised;
    }

    public override void SendEvent(string instanceId, string eventName, object payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        var serialized = WorkflowJson.Serialize(payload);
        Schedule((taskId, now) => new EventSent(now, taskId, instanceId, eventName, serialized), expectsResult: false);
    }

    public override void SetCustomStatus(object? customStatus)
    {
        EnsureOnDispatcher();
        _customStatus = WorkflowJson.Serialize(customStatus);
    }

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true)
    {
        EnsureOnDispatcher();
        _continueAsNew = new ContinuedAsNew(WorkflowJson.Serialize(newInput), preserveUnprocessedEvents);
    }

    public override Guid NewGuid()
    {
        EnsureOnDispatcher();
        var name = Encoding.UTF8.GetBytes($"{InstanceId}_{_now:O}_{_guidCount++}");
        var input = GuidNamespace.ToByteArray(bigEndian: true).Concat(name).ToArray();
#pragma warning disable CA5350 // RFC 4122 defines version 5 GUIDs over SHA-1; nothing here depends on its strength.
        var hash = SHA1.HashData(input).AsSpan(0, 16).ToArray();
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash, bigEndian: true);
    }

    public override ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(_loggers.CreateLogger(categoryName), this);

    /// <summary>Applies one history event; false when a new event is stale (a result nobody waits for any more, or a duplicate).</summary>
    private bool Apply(HistoryEvent next)
    {
        if (_nondeterminism is not null)
        {
            return false;
        }

        switch (next)
        {
            case ExecutionStarted started when _run is null:
                _dispatcher.Run(() => Start(started));
                return true;
            case ExecutionStarted:
                return false;
            case OrchestratorStarted stepStarted:
                _now = stepStarted.Timestamp;
                return true;
            case TaskScheduledEvent recorded:
                Match(recorded);
                return true;
            case TaskResultEvent result:
                return Resolve(result);
            case EventRaised raised:
                _dispatcher.Run(() => Deliver(raised));
                return true;
            default:
                return true;
        }
    }

    private void Start(ExecutionStarted started)
    {
        try
        {
            _run = _workflow.RunAsync(this, WorkflowJson.Deserialize(started.Input, _workflow.InputType));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Input that does not deserialize, or a workflow that throws before its first await.
            _run = Task.FromException<object?>(exception);
        }
    }

    /// <summary>Pairs a durable call recorded in history with the call the code made under the same task ID.</summary>
    private void Match(TaskScheduledEvent recorded)
    {
        _unrecordedCalls.Remove(recorded.TaskId, out var made);
        var expected = Describe(recorded);
        if (made is not null && Describe(made) == expected)
        {
            return;
        }

        var now = made is null ? "nothing"
            : Kind(made) == Kind(recorded) ? Describe(made)[(Kind(made).Length + 1)..]
            : Describe(made);
        var message = $"step {recorded.TaskId}: history has {expected} but the workflow now schedules {now}. "
            + "Workflow code must make the same calls in the same order on every replay; version the workflow (a new name) to change them.";
        _nondeterminism = new WorkflowTaskFailureDetails(typeof(NonDeterministicWorkflowException).FullName!, message);
    }

    private bool Resolve(TaskResultEvent result)
    {
        if (!_openTasks.Remove(result.TaskId, out var open))
        {
            return false;
        }

        _dispatcher.Run(() =>
        {
            switch (result)
            {
                case TaskCompleted completed:
                    open.Completion.TrySetResult(completed.Result);
                    break;
                case SubOrchestrationCompleted completed:
                    open.Completion.TrySetResult(completed.Result);
                    break;
                case TimerFired:
                    open.Completion.TrySetResult(null);
                    break;
                case TaskFailed failed:
                    open.Completion.TrySetException(Failure(open.Call, failed.FailureDetails));
                    break;
                case SubOrchestrationFailed failed:
                    open.Completion.TrySetException(Failure(open.Call, failed.FailureDetails));
                    break;
            }
        });
        return true;
    }

    private void Deliver(EventRaised raised)
    {
        if (_eventWaiters.TryGetValue(raised.Name, out var waiters) && waiters.First is { } oldest)
        {
            waiters.RemoveFirst();
            oldest.Value.TrySetResult(raised.Input);
            return;
        }

        var buffered = _bufferedEvents.TryGetValue(raised.Name, out var queue) ? queue : _bufferedEvents[raised.Name] = new();
        buffered.Enqueue(raised);
    }

    private (int TaskId, Task<string?> Result) Schedule(Func<int, DateTimeOffset, TaskScheduledEvent> call, bool expectsResult = true)
    {
        EnsureOnDispatcher();
        var taskId = ++_lastTaskId;
        var made = call(taskId, _now);
        _unrecordedCalls[taskId] = made;
        if (!expectsResult)
        {
            return (taskId, Task.FromResult<string?>(null));
        }

        var completion = new TaskCompletionSource<string?>();
        _openTasks[taskId] = new OpenTask(made, completion);
        return (taskId, completion.Task);
    }

    private async Task<string?> WithRetries(WorkflowRetryPolicy? policy, Func<Task<string?>> attempt)
    {
        if (policy is null)
        {
            return await attempt();
        }

        var firstAttemptAt = _now;
        for (var failures = 1; ; failures++)
        {
            try
            {
                return await attempt();
            }
            catch (WorkflowTaskFailedException) when (failures < policy.MaxNumberOfAttempts && WithinRetryTimeout(policy, firstAttemptAt, failures))
            {
                await CreateTimer(policy.DelayAfter(failures));
            }
        }
    }

    private bool WithinRetryTimeout(WorkflowRetryPolicy policy, DateTimeOffset firstAttemptAt, int failures) =>
        policy.RetryTimeout == Timeout.InfiniteTimeSpan || _now + policy.DelayAfter(failures) <= firstAttemptAt + policy.RetryTimeout;

    private static async Task<T> Deserialize<T>(Task<string?> raw) => WorkflowJson.Deserialize<T>(await raw)!;

    private StepResult Result()
    {
        var newCalls = _unrecordedCalls.Values.OrderBy(call => call.TaskId).ToList();
        var unconsumedEvents = _bufferedEvents.Values.SelectMany(queue => queue).ToList();
        return new StepResult(_acceptedEvents, newCalls, Outcome(), _customStatus, unconsumedEvents);
    }

    private WorkflowOutcome? Outcome()
    {
        if (_nondeterminism is not null)
        {
            return new WorkflowFailed(_nondeterminism);
        }

        if (_continueAsNew is not null)
        {
            return _continueAsNew;
        }

        return _run switch
        {
            null => null,
            { IsCompletedSuccessfully: true } => new WorkflowCompleted(WorkflowJson.Serialize(_run.Result, _workflow.OutputType)),
            { IsFaulted: true } => new WorkflowFailed(WorkflowTaskFailureDetails.From(_run.Exception!.InnerException!)),
            { IsCanceled: true } => new WorkflowFailed(CancellationDetails(_run)),
            _ when _openTasks.Count == 0 && _eventWaiters.Values.All(waiters => waiters.Count == 0) => new WorkflowFailed(new WorkflowTaskFailureDetails(
                typeof(InvalidOperationException).FullName!,
                "The workflow is awaiting something that is not a workflow task (Task.Delay, I/O, Task.Run or ConfigureAwait(false)); "
                + "use the WorkflowContext's timers and activities instead.")),
            _ => null,
        };
    }

    private static WorkflowTaskFailureDetails CancellationDetails(Task run)
    {
        // An OperationCanceledException escaping an async method cancels its task instead of faulting it; awaiting the
        // task rethrows that exception, message included.
        try
        {
            run.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException canceled)
        {
            return WorkflowTaskFailureDetails.From(canceled);
        }

        return new WorkflowTaskFailureDetails(typeof(TaskCanceledException).FullName!, "The workflow was canceled.");
    }

    private static WorkflowTaskFailedException Failure(TaskScheduledEvent call, WorkflowTaskFailureDetails details) =>
        new($"{Describe(call)} (#{call.TaskId}) failed: {details.ErrorMessage}", details);

    private static string Kind(TaskScheduledEvent call) => call switch
    {
        TaskScheduled => "activity",
        SubOrchestrationCreated => "child workflow",
        EventSent => "event",
        _ => "timer",
    };

    private static string Describe(TaskScheduledEvent call) => call switch
    {
        TaskScheduled activity => $"activity '{activity.Name}'",
        SubOrchestrationCreated child => $"child workflow '{child.Name}'",
        EventSent sent => $"event '{sent.Name}' to '{sent.InstanceId}'",
        _ => Kind(call),
    };

    private void EnsureOnDispatcher()
    {
        if (SynchronizationContext.Current != _dispatcher)
        {
            throw new InvalidOperationException(
                "Workflow APIs must be called from the workflow's own code as it runs; do not call them after awaiting a "
                + "non-workflow task, from Task.Run or after ConfigureAwait(false).");
        }
    }

    private sealed record OpenTask(TaskScheduledEvent Call, TaskCompletionSource<string?> Completion);

    private sealed class ReplaySafeLogger(ILogger inner, WorkflowContext context) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

/// <summary>What one step did: the new events it kept, the durable calls it made, and how the run ended, if it did.</summary>
internal sealed record StepResult(
    IReadOnlyList<HistoryEvent> AcceptedEvents,
    IReadOnlyList<TaskScheduledEvent> NewCalls,
    WorkflowOutcome? Outcome,
    string? CustomStatus,
    IReadOnlyList<EventRaised> UnconsumedEvents);

internal abstract record WorkflowOutcome;

internal sealed record WorkflowCompleted(string? Output) : WorkflowOutcome;

internal sealed record WorkflowFailed(WorkflowTaskFailureDetails FailureDetails) : WorkflowOutcome;

internal sealed record ContinuedAsNew(string? Input, bool PreserveUnprocessedEvents) : WorkflowOutcome;
