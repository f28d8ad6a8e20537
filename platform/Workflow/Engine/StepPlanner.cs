using Dapr.Workflow;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// Turns a leased instance and the messages visible in its inbox into the one commit that advances it: termination,
/// suspension and resumption first, then a replay of the workflow over the rest, then the effects of how it ended.
/// </summary>
internal sealed class StepPlanner
{
    private readonly WorkflowInstanceRecord _record;
    private readonly WorkflowMetadata _metadata;
    private readonly DateTimeOffset _now;
    private readonly string? _traceParent;

    private StepPlanner(WorkflowInstanceRecord record, DateTimeOffset now, string? traceParent)
    {
        _record = record;
        _metadata = record.Metadata with { Lease = null, LastUpdatedAt = now };
        _now = now;
        _traceParent = traceParent;
    }

    /// <param name="traceParent">The span of this step, which the activities and children it starts continue.</param>
    public static WorkflowCommit Plan(
        WorkflowInstanceRecord record, DateTimeOffset now, Func<string, IWorkflow?> resolve, ILoggerFactory loggers, string? traceParent) =>
        new StepPlanner(record, now, traceParent).Plan(resolve, loggers);

    private WorkflowCommit Plan(Func<string, IWorkflow?> resolve, ILoggerFactory loggers)
    {
        if (_record.Metadata.IsFinished)
        {
            // Whatever arrives after the end (a late activity result, an event) has no one to go to.
            return Commit(_record.Metadata with { Lease = null }, [], inbox: []);
        }

        var due = _record.Inbox.Where(message => message.VisibleAt <= _now).OrderBy(message => message.VisibleAt).ToList();
        var later = _record.Inbox.Where(message => message.VisibleAt > _now).ToList();
        var current = due.Where(message => message.ExecutionId is null || message.ExecutionId == _metadata.ExecutionId).ToList();
        if (current.Select(message => message.Event).OfType<ExecutionTerminated>().FirstOrDefault() is { } terminated)
        {
            return Terminate(terminated);
        }

        var controls = current.Where(message => message.Event is ExecutionSuspended or ExecutionResumed).ToList();
        var work = current.Where(message => message.Event is not (ExecutionSuspended or ExecutionResumed)).ToList();
        var controlEvents = controls.Select(message => message.Event).ToList();
        var started = _record.History.Any(history => history is ExecutionStarted);
        var suspended = controls.Count > 0 ? controls[^1].Event is ExecutionSuspended : _metadata.RuntimeStatus == WorkflowRuntimeStatus.Suspended;
        if (suspended)
        {
            // A suspended instance keeps what arrives in its inbox for when it is resumed.
            return Commit(_metadata with { RuntimeStatus = WorkflowRuntimeStatus.Suspended }, controlEvents, [.. later, .. work]);
        }

        if (work.Count == 0 || !(started || work.Any(message => message.Event is ExecutionStarted)))
        {
            // Events for an instance whose start is still to come wait for it.
            var status = started ? WorkflowRuntimeStatus.Running : WorkflowRuntimeStatus.Pending;
            return Commit(_metadata with { RuntimeStatus = status }, controlEvents, [.. later, .. work]);
        }

        List<HistoryEvent> newEvents = [new OrchestratorStarted(_now), .. controlEvents, .. work.Select(message => message.Event)];
        var result = resolve(_metadata.Name) is { } workflow
            ? WorkflowExecution.Run(_metadata.InstanceId, _metadata.Name, workflow, loggers, _record.History, newEvents)
            : new StepResult(newEvents, [], NotRegistered(), null, []);
        return Advance(result, later);
    }

    private WorkflowCommit Advance(StepResult result, List<InboxMessage> later)
    {
        List<HistoryEvent> appended = [.. result.AcceptedEvents, .. result.NewCalls];
        var metadata = _metadata with { SerializedCustomStatus = result.CustomStatus };
        var startedInstances = result.NewCalls.OfType<SubOrchestrationCreated>().Select(StartChild).ToList();
        var messages = result.NewCalls.OfType<EventSent>()
            .Select(sent => new OutgoingMessage(sent.InstanceId, Message(new EventRaised(_now, sent.Name, sent.Input))))
            .ToList();
        switch (result.Outcome)
        {
            case null:
                var timers = result.NewCalls.OfType<TimerCreated>()
                    .Select(timer => Message(new TimerFired(timer.FireAt, timer.TaskId, timer.FireAt), timer.FireAt, _metadata.ExecutionId));
                var activities = result.NewCalls.OfType<TaskScheduled>()
                    .Select(call => new ActivityWorkItem(_metadata.InstanceId, _metadata.ExecutionId, call.TaskId, call.Name, call.Input, _traceParent))
                    .ToList();
                return Commit(metadata with { RuntimeStatus = WorkflowRuntimeStatus.Running }, appended, [.. later, .. timers], activities, [], startedInstances, messages);
            case ContinuedAsNew next:
                // The new run starts from its own start message, so it is a separate step with its own replay from empty history.
                var executionId = NewExecutionId();
                var start = Message(new ExecutionStarted(_now, _metadata.Name, next.Input, _traceParent), _now, executionId);
                var carried = next.PreserveUnprocessedEvents
                    ? result.UnconsumedEvents.Concat(later.Select(message => message.Event).OfType<EventRaised>()).Select(raised => Message(raised))
                    : [];
                var continued = metadata with
                {
                    RuntimeStatus = WorkflowRuntimeStatus.ContinuedAsNew,
                    ExecutionId = executionId,
                    SerializedInput = next.Input,
                    SerializedOutput = null,
                };
                return Commit(continued, [new ContinueAsNew(_now, next.Input, _metadata.ExecutionId)], [start, .. carried],
                    cancelled: PendingActivities([.. _record.History, .. appended]), startedInstances: startedInstances, messages: messages,
                    replacesHistory: true);
            case WorkflowCompleted completed:
                appended.Add(new ExecutionCompleted(_now, WorkflowRuntimeStatus.Completed, completed.Output, null));
                messages.AddRange(ToParent(new SubOrchestrationCompleted(_now, _metadata.Parent?.TaskId ?? 0, completed.Output)));
                return Finish(metadata with { RuntimeStatus = WorkflowRuntimeStatus.Completed, SerializedOutput = completed.Output }, appended, startedInstances, messages);
            case WorkflowFailed failed:
                appended.Add(new ExecutionCompleted(_now, WorkflowRuntimeStatus.Failed, null, failed.FailureDetails));
                messages.AddRange(ToParent(new SubOrchestrationFailed(_now, _metadata.Parent?.TaskId ?? 0, failed.FailureDetails)));
                return Finish(metadata with { RuntimeStatus = WorkflowRuntimeStatus.Failed, FailureDetails = failed.FailureDetails }, appended, startedInstances, messages);
            default:
                throw new InvalidOperationException($"Unknown outcome {result.Outcome}.");
        }
    }

    /// <summary>
    /// Ends the run: the inbox is emptied and activities not yet run are cancelled, since no one will read their results;
    /// children started and events sent by the last step still go out.
    /// </summary>
    private WorkflowCommit Finish(WorkflowMetadata metadata, List<HistoryEvent> appended, List<NewWorkflowInstance> startedInstances, List<OutgoingMessage> messages) =>
        Commit(metadata, appended, inbox: [], cancelled: PendingActivities([.. _record.History, .. appended]), startedInstances: startedInstances, messages: messages);

    /// <summary>Terminates the instance and, as daprd's recursive terminate does, every child it is still waiting for.</summary>
    private WorkflowCommit Terminate(ExecutionTerminated terminated)
    {
        var children = Unresolved<SubOrchestrationCreated>(_record.History)
            .Select(child => new OutgoingMessage(child.InstanceId, Message(new ExecutionTerminated(_now, terminated.Output))));
        var details = new WorkflowTaskFailureDetails("Terminated", $"The workflow instance '{_metadata.InstanceId}' was terminated.");
        var parent = ToParent(new SubOrchestrationFailed(_now, _metadata.Parent?.TaskId ?? 0, details));
        var metadata = _metadata with { RuntimeStatus = WorkflowRuntimeStatus.Terminated, SerializedOutput = terminated.Output };
        return Commit(metadata, [terminated], inbox: [], cancelled: PendingActivities(_record.History), messages: [.. children, .. parent]);
    }

    private IEnumerable<OutgoingMessage> ToParent(TaskResultEvent result) =>
        _metadata.Parent is { } parent ? [new OutgoingMessage(parent.InstanceId, Message(result, _now, parent.ExecutionId))] : [];

    private NewWorkflowInstance StartChild(SubOrchestrationCreated child)
    {
        var executionId = NewExecutionId();
        var metadata = new WorkflowMetadata(
            child.InstanceId, child.Name, WorkflowRuntimeStatus.Pending, executionId, _now, _now, child.Input,
            Parent: new ParentWorkflow(_metadata.InstanceId, _metadata.ExecutionId, child.TaskId));
        return new NewWorkflowInstance(metadata, Message(new ExecutionStarted(_now, child.Name, child.Input, _traceParent), _now, executionId));
    }

    private WorkflowCommit Commit(
        WorkflowMetadata metadata,
        IReadOnlyList<HistoryEvent> appended,
        IReadOnlyList<InboxMessage> inbox,
        IReadOnlyList<ActivityWorkItem>? activities = null,
        IReadOnlyList<int>? cancelled = null,
        IReadOnlyList<NewWorkflowInstance>? startedInstances = null,
        IReadOnlyList<OutgoingMessage>? messages = null,
        bool replacesHistory = false) =>
        new(_record.ETag, metadata, appended, replacesHistory, inbox, activities ?? [], cancelled ?? [], startedInstances ?? [], messages ?? []);

    private InboxMessage Message(HistoryEvent content) => Message(content, _now);

    private static InboxMessage Message(HistoryEvent content, DateTimeOffset visibleAt, string? executionId = null) =>
        new(Guid.NewGuid().ToString("N"), content, visibleAt, executionId);

    private WorkflowFailed NotRegistered() => new(new WorkflowTaskFailureDetails(
        typeof(InvalidOperationException).FullName!, $"No workflow named '{_metadata.Name}' is registered with this application."));

    internal static string NewExecutionId() => Guid.NewGuid().ToString("N");

    private static List<int> PendingActivities(IReadOnlyList<HistoryEvent> history) =>
        [.. Unresolved<TaskScheduled>(history).Select(call => call.TaskId)];

    private static IEnumerable<T> Unresolved<T>(IReadOnlyList<HistoryEvent> history)
        where T : TaskScheduledEvent
    {
        var resolved = history.OfType<TaskResultEvent>().Select(result => result.TaskId).ToHashSet();
        return history.OfType<T>().Where(call => !resolved.Contains(call.TaskId));
    }
}
