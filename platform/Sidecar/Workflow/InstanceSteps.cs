using Dapr.DurableTask.Protobuf;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CloudScale.Sidecar.Workflow;

internal enum WorkflowErrorKind
{
    NotConfigured,
    NotFound,
    AlreadyExists,
    InvalidArgument,
    NotTerminal,
    StaleCompletion,
}

internal sealed class WorkflowException(WorkflowErrorKind kind, string message) : Exception(message)
{
    public WorkflowErrorKind Kind { get; } = kind;

    /// <summary>The instance that was not found.</summary>
    public string? InstanceId { get; private init; }

    public static WorkflowException NotFound(string instanceId) => new(WorkflowErrorKind.NotFound, $"no such instance exists: {instanceId}") { InstanceId = instanceId };
}

/// <summary>
/// Work claimed in one write: at most one orchestration work item and any number of activity work items, all under leases
/// taken at <paramref name="ClaimedAt"/> that expire at <paramref name="ExpiresAt"/>.
/// </summary>
internal sealed record ClaimedWork(IReadOnlyList<WorkItem> Items, long ClaimedAt, long ExpiresAt)
{
    public static ClaimedWork None { get; } = new([], 0, 0);
}

/// <summary>
/// The steps of an instance's life as pure changes of its <see cref="InstanceRecord"/>, each written by the caller as one
/// etag-guarded write. Times are Unix milliseconds.
/// </summary>
internal static class InstanceSteps
{
    private const int ReceivedMessagesKept = 128;

    public static InstanceRecord Create(string instanceId, HistoryEvent executionStarted, long visibleAt, long now, string? messageId)
    {
        var started = executionStarted.ExecutionStarted;
        return new InstanceRecord
        {
            InstanceId = instanceId,
            Name = started.Name,
            ExecutionId = started.WorkflowInstance.ExecutionId ?? Guid.NewGuid().ToString("N"),
            Status = OrchestrationStatus.Pending,
            CreatedAt = now,
            LastUpdatedAt = now,
            ScheduledStartAt = started.ScheduledStartTimestamp is { } start ? ToMilliseconds(start) : null,
            Input = started.Input,
            ParentInstance = started.ParentInstance is { } parent ? InstanceRecord.Bytes(parent) : null,
            TraceContext = started.ParentTraceContext is { } trace ? InstanceRecord.Bytes(trace) : null,
            Inbox = [new InboxEntry(executionStarted.ToByteArray(), visibleAt)],
            ReceivedMessages = messageId is null ? [] : [messageId],
        };
    }

    public static bool HasClaimableWork(InstanceRecord record, long now) =>
        !record.IsTerminal
        && (OrchestrationClaimable(record, now) || record.Activities.Any(task => task.Lease is null || !task.Lease.IsLive(now)));

    /// <summary>
    /// Since when the instance has had work that no lease holds, null when it has none: the earliest of its ready events'
    /// times, the ends of the leases that ran out, and the last write for work that was released or never handed out.
    /// </summary>
    public static long? ClaimableSince(InstanceRecord record, long now)
    {
        if (!HasClaimableWork(record, now))
        {
            return null;
        }

        var since = long.MaxValue;
        if (OrchestrationClaimable(record, now))
        {
            since = record.Dispatched.Count > 0 ? record.Lease?.ExpiresAt ?? record.LastUpdatedAt : record.Inbox.Where(entry => entry.VisibleAt <= now).Min(entry => entry.VisibleAt);
        }

        foreach (var task in record.Activities.Where(task => task.Lease is null || !task.Lease.IsLive(now)))
        {
            since = Math.Min(since, task.Lease?.ExpiresAt ?? record.LastUpdatedAt);
        }

        return since;
    }

    private static bool OrchestrationClaimable(InstanceRecord record, long now) =>
        record.Status != OrchestrationStatus.Suspended
        && (record.Lease is null || !record.Lease.IsLive(now))
        && (record.Dispatched.Count > 0 || record.HasReadyEvents(now));

    /// <summary>
    /// Takes the orchestration work item (the ready inbox events, after a WorkflowStarted event that dates the turn)
    /// and every activity no live lease holds, each under a new lease whose token is the work item's completion token.
    /// A work item whose lease expired is handed out again as it was.
    /// </summary>
    public static ClaimedWork Claim(InstanceRecord record, long now, TimeSpan leaseDuration)
    {
        if (record.IsTerminal)
        {
            return ClaimedWork.None;
        }

        var items = new List<WorkItem>();
        var expiresAt = now + (long)leaseDuration.TotalMilliseconds;
        if (OrchestrationClaimable(record, now))
        {
            if (record.Dispatched.Count == 0)
            {
                record.Dispatched.Add(HistoryEvents.WorkflowStarted(FromMilliseconds(now)).ToByteArray());
            }

            record.Dispatched.AddRange(record.Inbox.Where(entry => entry.VisibleAt <= now).Select(entry => entry.Event));
            record.Inbox.RemoveAll(entry => entry.VisibleAt <= now);
            record.Lease = new Lease(NewToken(), expiresAt);
            var request = new WorkflowRequest { InstanceId = record.InstanceId, ExecutionId = record.ExecutionId };
            request.PastEvents.AddRange(record.History.Select(HistoryEvent.Parser.ParseFrom));
            request.NewEvents.AddRange(record.Dispatched.Select(HistoryEvent.Parser.ParseFrom));
            items.Add(new WorkItem { WorkflowRequest = request, CompletionToken = record.Lease.Token });
        }

        for (var index = 0; index < record.Activities.Count; index++)
        {
            var task = record.Activities[index];
            if (task.Lease is null || !task.Lease.IsLive(now))
            {
                var lease = new Lease(NewToken(), expiresAt);
                record.Activities[index] = task with { Lease = lease };
                items.Add(new WorkItem { ActivityRequest = ActivityRequest.Parser.ParseFrom(task.Request), CompletionToken = lease.Token });
            }
        }

        if (items.Count > 0)
        {
            record.LastUpdatedAt = Math.Max(record.LastUpdatedAt, now);
        }

        return new ClaimedWork(items, now, expiresAt);
    }

    /// <summary>
    /// Extends to <paramref name="expiresAt"/> the leases of <paramref name="tokens"/> that are still the leases of their
    /// work items, and returns those; a token that is not (its item was completed, handed out again, or the instance ended)
    /// is left out, so its holder's completion stays refused.
    /// </summary>
    public static IReadOnlyList<string> Renew(InstanceRecord record, IReadOnlySet<string> tokens, long expiresAt)
    {
        var renewed = new List<string>();
        if (record.IsTerminal)
        {
            return renewed;
        }

        if (record.Lease is { } lease && tokens.Contains(lease.Token))
        {
            record.Lease = lease with { ExpiresAt = expiresAt };
            renewed.Add(lease.Token);
        }

        for (var index = 0; index < record.Activities.Count; index++)
        {
            if (record.Activities[index].Lease is { } activityLease && tokens.Contains(activityLease.Token))
            {
                record.Activities[index] = record.Activities[index] with { Lease = activityLease with { ExpiresAt = expiresAt } };
                renewed.Add(activityLease.Token);
            }
        }

        return renewed;
    }

    /// <summary>Gives up a lease early (its worker went away), so the work item can be handed out again at once.</summary>
    public static bool Release(InstanceRecord record, string token)
    {
        if (record.Lease?.Token == token)
        {
            record.Lease = null;
            return true;
        }

        var index = record.Activities.FindIndex(task => task.Lease?.Token == token);
        if (index < 0)
        {
            return false;
        }

        record.Activities[index] = record.Activities[index] with { Lease = null };
        return true;
    }

    /// <summary>
    /// Applies a worker's answer to an orchestration work item: the new events join the history, then each action adds
    /// its history event and its work (activity, timer, child, message). Refused unless the lease it was given is still
    /// the instance's. Always a change (true).
    /// </summary>
    public static bool CompleteOrchestration(InstanceRecord record, WorkflowResponse response, long now)
    {
        if (record.IsTerminal || record.Lease?.Token != response.CompletionToken)
        {
            throw Stale();
        }

        var at = FromMilliseconds(now);
        record.History.AddRange(record.Dispatched);
        record.Dispatched.Clear();
        record.Lease = null;
        record.LastUpdatedAt = now;
        record.CustomStatus = response.CustomStatus;
        if (record.Status == OrchestrationStatus.Pending)
        {
            record.Status = OrchestrationStatus.Running;
        }

        var trace = record.TraceContext is { } bytes ? TraceContext.Parser.ParseFrom(bytes) : null;
        WorkflowAction? completion = null;
        foreach (var action in response.Actions)
        {
            switch (action.WorkflowActionTypeCase)
            {
                case WorkflowAction.WorkflowActionTypeOneofCase.ScheduleTask:
                    ScheduleActivity(record, action.Id, action.ScheduleTask, trace, at);
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateTimer:
                    CreateTimer(record, action.Id, action.CreateTimer, at);
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateChildWorkflow:
                    CreateChild(record, action.Id, action.CreateChildWorkflow, trace, at);
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.SendEvent:
                    SendEvent(record, action.Id, action.SendEvent, at);
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.TerminateWorkflow:
                    var terminate = action.TerminateWorkflow;
                    Send(record, terminate.InstanceId, OutboxKind.Terminate, Terminated(at, terminate.Reason, terminate.Recurse));
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow:
                    completion = action;
                    break;
            }
        }

        if (completion?.CompleteWorkflow.WorkflowStatus == OrchestrationStatus.ContinuedAsNew)
        {
            ContinueAsNew(record, completion.CompleteWorkflow, trace, at);
        }
        else if (completion is not null)
        {
            var complete = completion.CompleteWorkflow;
            // As durable task's backend, the ExecutionCompleted event carries the action's id.
            Finish(record, complete.WorkflowStatus, complete.Result, complete.FailureDetails, at, completion.Id);
        }

        return true;
    }

    /// <summary>Adds an activity's result to the inbox; refused unless the lease it was given is still the activity's. Returns the completed task.</summary>
    public static ActivityTask CompleteActivity(InstanceRecord record, ActivityResponse response, long now)
    {
        var index = record.IsTerminal ? -1 : record.Activities.FindIndex(task => task.TaskId == response.TaskId && task.Lease?.Token == response.CompletionToken);
        if (index < 0)
        {
            throw Stale();
        }

        var task = record.Activities[index];
        var request = ActivityRequest.Parser.ParseFrom(task.Request);
        record.Activities.RemoveAt(index);
        var result = HistoryEvents.New(FromMilliseconds(now));
        if (response.FailureDetails is { } failure)
        {
            result.TaskFailed = new TaskFailedEvent { TaskScheduledId = response.TaskId, FailureDetails = failure, TaskExecutionId = request.TaskExecutionId };
        }
        else
        {
            result.TaskCompleted = new TaskCompletedEvent { TaskScheduledId = response.TaskId, Result = response.Result, TaskExecutionId = request.TaskExecutionId };
        }

        record.Inbox.Add(new InboxEntry(result.ToByteArray(), now));
        record.LastUpdatedAt = now;
        return task;
    }

    /// <summary>An external event; one for an instance that has ended is dropped, as durable task does.</summary>
    public static bool RaiseEvent(InstanceRecord record, HistoryEvent raised, long now, string? messageId)
    {
        if (record.IsTerminal || (messageId is not null && record.ReceivedMessages.Contains(messageId)))
        {
            return false;
        }

        record.Inbox.Add(new InboxEntry(raised.ToByteArray(), now));
        Remember(record, messageId);
        record.LastUpdatedAt = now;
        return true;
    }

    /// <summary>
    /// Ends the instance as TERMINATED at once (its work in flight is dropped: a late completion is refused), tells its
    /// parent, and with <paramref name="recurse"/> terminates the children still running, as daprd's recursive terminate.
    /// </summary>
    public static bool Terminate(InstanceRecord record, string? output, bool recurse, long now)
    {
        if (record.IsTerminal)
        {
            return false;
        }

        var at = FromMilliseconds(now);
        record.History.AddRange(record.Dispatched);
        record.History.Add(Terminated(at, output, recurse).ToByteArray());
        if (recurse)
        {
            foreach (var child in RunningChildren(record))
            {
                Send(record, child, OutboxKind.Terminate, Terminated(at, output, recurse: true));
            }
        }

        Finish(record, OrchestrationStatus.Terminated, output, null, at);
        return true;
    }

    public static bool Suspend(InstanceRecord record, string? reason, long now)
    {
        if (record.IsTerminal || record.Status == OrchestrationStatus.Suspended)
        {
            return false;
        }

        var suspended = HistoryEvents.New(FromMilliseconds(now));
        suspended.ExecutionSuspended = new ExecutionSuspendedEvent { Input = reason };
        record.History.Add(suspended.ToByteArray());
        record.Status = OrchestrationStatus.Suspended;
        record.LastUpdatedAt = now;
        return true;
    }

    public static bool Resume(InstanceRecord record, string? reason, long now)
    {
        if (record.Status != OrchestrationStatus.Suspended)
        {
            return false;
        }

        var resumed = HistoryEvents.New(FromMilliseconds(now));
        resumed.ExecutionResumed = new ExecutionResumedEvent { Input = reason };
        record.History.Add(resumed.ToByteArray());
        record.Status = record.History.Select(HistoryEvent.Parser.ParseFrom).Any(historyEvent => historyEvent.ExecutionStarted is not null)
            ? OrchestrationStatus.Running
            : OrchestrationStatus.Pending;
        record.LastUpdatedAt = now;
        return true;
    }

    /// <summary>Child workflows this instance created that have not reported back (ids from the history).</summary>
    public static IReadOnlyList<string> Children(InstanceRecord record, bool runningOnly)
    {
        var events = record.History.Select(HistoryEvent.Parser.ParseFrom).ToList();
        var reported = events
            .Select(historyEvent => historyEvent.ChildWorkflowInstanceCompleted?.TaskScheduledId ?? historyEvent.ChildWorkflowInstanceFailed?.TaskScheduledId)
            .OfType<int>()
            .ToHashSet();
        return [.. events
            .Where(historyEvent => historyEvent.ChildWorkflowInstanceCreated is not null && !(runningOnly && reported.Contains(historyEvent.EventId)))
            .Select(historyEvent => historyEvent.ChildWorkflowInstanceCreated.InstanceId)];
    }

    public static void Remember(InstanceRecord record, string? messageId)
    {
        if (messageId is null)
        {
            return;
        }

        record.ReceivedMessages.Add(messageId);
        if (record.ReceivedMessages.Count > ReceivedMessagesKept)
        {
            record.ReceivedMessages.RemoveRange(0, record.ReceivedMessages.Count - ReceivedMessagesKept);
        }
    }

    public static long ToMilliseconds(Timestamp timestamp) => timestamp.ToDateTimeOffset().ToUnixTimeMilliseconds();

    public static DateTimeOffset FromMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private static IEnumerable<string> RunningChildren(InstanceRecord record) => Children(record, runningOnly: true);

    /// <summary>
    /// The work an action's history event stands for, given to the record: the activity to run for a TaskScheduled, the
    /// firing of a TimerCreated, the start of the child of a ChildWorkflowInstanceCreated. Each action does it once; a
    /// rerun does it again for the events it takes over.
    /// </summary>
    public static void AddWork(InstanceRecord record, HistoryEvent historyEvent, DateTimeOffset at)
    {
        switch (historyEvent.EventTypeCase)
        {
            case HistoryEvent.EventTypeOneofCase.TaskScheduled:
                var scheduled = historyEvent.TaskScheduled;
                var request = new ActivityRequest
                {
                    Name = scheduled.Name,
                    Version = scheduled.Version,
                    Input = scheduled.Input,
                    WorkflowInstance = new WorkflowInstance { InstanceId = record.InstanceId, ExecutionId = record.ExecutionId },
                    TaskId = historyEvent.EventId,
                    ParentTraceContext = scheduled.ParentTraceContext,
                    TaskExecutionId = scheduled.TaskExecutionId,
                };
                record.Activities.Add(new ActivityTask(historyEvent.EventId, request.ToByteArray(), null));
                break;
            case HistoryEvent.EventTypeOneofCase.TimerCreated when !historyEvent.TimerCreated.FireAt.Equals(HistoryEvents.IndefiniteFireAt):
                var fireAt = historyEvent.TimerCreated.FireAt;
                var fired = HistoryEvents.New(fireAt.ToDateTimeOffset());
                fired.TimerFired = new TimerFiredEvent { FireAt = fireAt, TimerId = historyEvent.EventId };
                record.Inbox.Add(new InboxEntry(fired.ToByteArray(), ToMilliseconds(fireAt)));
                break;
            case HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated:
                var child = historyEvent.ChildWorkflowInstanceCreated;
                var parent = new ParentInstanceInfo
                {
                    TaskScheduledId = historyEvent.EventId,
                    Name = record.Name,
                    WorkflowInstance = new WorkflowInstance { InstanceId = record.InstanceId, ExecutionId = record.ExecutionId },
                };
                var started = HistoryEvents.ExecutionStarted(at, child.InstanceId, Guid.NewGuid().ToString("N"), child.Name, child.Input, parent, child.ParentTraceContext, null);
                Send(record, child.InstanceId, OutboxKind.Start, started);
                break;
        }
    }

    private static void ScheduleActivity(InstanceRecord record, int id, ScheduleTaskAction action, TraceContext? trace, DateTimeOffset at)
    {
        var scheduled = HistoryEvents.New(at, id);
        scheduled.TaskScheduled = new TaskScheduledEvent
        {
            Name = action.Name,
            Version = action.Version,
            Input = action.Input,
            TaskExecutionId = action.TaskExecutionId,
            ParentTraceContext = trace,
        };
        record.History.Add(scheduled.ToByteArray());
        AddWork(record, scheduled, at);
    }

    private static void SendEvent(InstanceRecord record, int id, SendEventAction action, DateTimeOffset at)
    {
        var sent = HistoryEvents.New(at, id);
        sent.EventSent = new EventSentEvent { InstanceId = action.Instance.InstanceId, Name = action.Name, Input = action.Data };
        record.History.Add(sent.ToByteArray());
        Send(record, action.Instance.InstanceId, OutboxKind.Event, HistoryEvents.EventRaised(at, action.Name, action.Data));
    }

    private static void CreateTimer(InstanceRecord record, int id, CreateTimerAction action, DateTimeOffset at)
    {
        var created = HistoryEvents.New(at, id);
        created.TimerCreated = new TimerCreatedEvent { FireAt = action.FireAt, Name = action.Name };
        switch (action.OriginCase)
        {
            case CreateTimerAction.OriginOneofCase.CreateTimer:
                created.TimerCreated.CreateTimer = action.CreateTimer;
                break;
            case CreateTimerAction.OriginOneofCase.ExternalEvent:
                created.TimerCreated.ExternalEvent = action.ExternalEvent;
                break;
            case CreateTimerAction.OriginOneofCase.ActivityRetry:
                created.TimerCreated.ActivityRetry = action.ActivityRetry;
                break;
            case CreateTimerAction.OriginOneofCase.ChildWorkflowRetry:
                created.TimerCreated.ChildWorkflowRetry = action.ChildWorkflowRetry;
                break;
        }

        record.History.Add(created.ToByteArray());
        AddWork(record, created, at);
    }

    private static void CreateChild(InstanceRecord record, int id, CreateChildWorkflowAction action, TraceContext? trace, DateTimeOffset at)
    {
        var created = HistoryEvents.New(at, id);
        created.ChildWorkflowInstanceCreated = new ChildWorkflowInstanceCreatedEvent
        {
            InstanceId = action.InstanceId,
            Name = action.Name,
            Version = action.Version,
            Input = action.Input,
            ParentTraceContext = trace,
        };
        record.History.Add(created.ToByteArray());
        AddWork(record, created, at);
    }

    /// <summary>
    /// A new execution of the same instance: an empty history, the new input, the external events the SDK carried over
    /// and those that arrived meanwhile; the old execution's activities and timers are dropped.
    /// </summary>
    private static void ContinueAsNew(InstanceRecord record, CompleteWorkflowAction completion, TraceContext? trace, DateTimeOffset at)
    {
        var now = at.ToUnixTimeMilliseconds();
        record.ExecutionId = Guid.NewGuid().ToString("N");
        record.Input = completion.Result;
        record.Output = null;
        record.History.Clear();
        record.Activities.Clear();
        var parent = record.ParentInstance is { } parentBytes ? ParentInstanceInfo.Parser.ParseFrom(parentBytes) : null;
        var pendingEvents = record.Inbox.Where(entry => HistoryEvent.Parser.ParseFrom(entry.Event).EventRaised is not null).ToList();
        record.Inbox =
        [
            new InboxEntry(HistoryEvents.ExecutionStarted(at, record.InstanceId, record.ExecutionId, record.Name, completion.Result, parent, trace, null).ToByteArray(), now),
            .. completion.CarryoverEvents.Select(carried => new InboxEntry(carried.ToByteArray(), now)),
            .. pendingEvents,
        ];
        record.Status = OrchestrationStatus.Running;
    }

    private static void Finish(InstanceRecord record, OrchestrationStatus status, string? output, TaskFailureDetails? failure, DateTimeOffset at, int eventId = -1)
    {
        var now = at.ToUnixTimeMilliseconds();
        record.History.Add(HistoryEvents.ExecutionCompleted(at, status, output, failure, eventId).ToByteArray());
        record.Status = status;
        record.Output = output;
        record.FailureDetails = failure?.ToByteArray();
        record.CompletedAt = now;
        record.LastUpdatedAt = now;
        record.Lease = null;
        record.Dispatched.Clear();
        record.Inbox.Clear();
        record.Activities.Clear();
        if (record.ParentInstance is { } parentBytes)
        {
            var parent = ParentInstanceInfo.Parser.ParseFrom(parentBytes);
            Send(record, parent.WorkflowInstance.InstanceId, OutboxKind.Event, HistoryEvents.ChildResult(at, parent.TaskScheduledId, status, output, failure));
        }
    }

    private static HistoryEvent Terminated(DateTimeOffset at, string? output, bool recurse)
    {
        var terminated = HistoryEvents.New(at);
        terminated.ExecutionTerminated = new ExecutionTerminatedEvent { Input = output, Recurse = recurse };
        return terminated;
    }

    private static void Send(InstanceRecord record, string target, OutboxKind kind, HistoryEvent historyEvent) =>
        record.Outbox.Add(new OutboxMessage(NewToken(), target, kind, historyEvent.ToByteArray()));

    private static string NewToken() => Guid.NewGuid().ToString("N");

    private static WorkflowException Stale() => new(
        WorkflowErrorKind.StaleCompletion,
        "the work item is no longer this worker's: its lease expired and it was handed out again, or the instance no longer waits for it");
}
