using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// History events as durable task's backend makes them: events that answer an action carry the action's id as their
/// event id (the SDK matches TaskScheduled, TimerCreated, ChildWorkflowInstanceCreated to its pending actions by it);
/// every other event has event id -1.
/// </summary>
internal static class HistoryEvents
{
    /// <summary>The fire time the SDK gives the timer of a wait for an external event without a timeout; it never fires.</summary>
    public static readonly Timestamp IndefiniteFireAt = new() { Seconds = 253402300799, Nanos = 999999999 };

    public static HistoryEvent New(DateTimeOffset at, int eventId = -1) => new() { EventId = eventId, Timestamp = Timestamp.FromDateTimeOffset(at) };

    public static HistoryEvent WorkflowStarted(DateTimeOffset at)
    {
        var historyEvent = New(at);
        historyEvent.WorkflowStarted = new WorkflowStartedEvent();
        return historyEvent;
    }

    public static HistoryEvent EventRaised(DateTimeOffset at, string name, string? input)
    {
        var historyEvent = New(at);
        historyEvent.EventRaised = new EventRaisedEvent { Name = name, Input = input };
        return historyEvent;
    }

    public static HistoryEvent ExecutionStarted(
        DateTimeOffset at, string instanceId, string executionId, string name, string? input, ParentInstanceInfo? parent, TraceContext? trace, Timestamp? scheduledStart)
    {
        var historyEvent = New(at);
        historyEvent.ExecutionStarted = new ExecutionStartedEvent
        {
            Name = name,
            Input = input,
            WorkflowInstance = new WorkflowInstance { InstanceId = instanceId, ExecutionId = executionId },
            ParentInstance = parent,
            ParentTraceContext = trace,
            ScheduledStartTimestamp = scheduledStart,
        };
        return historyEvent;
    }

    public static HistoryEvent ExecutionCompleted(DateTimeOffset at, OrchestrationStatus status, string? result, TaskFailureDetails? failure, int eventId = -1)
    {
        var historyEvent = New(at, eventId);
        historyEvent.ExecutionCompleted = new ExecutionCompletedEvent { WorkflowStatus = status, Result = result, FailureDetails = failure };
        return historyEvent;
    }

    /// <summary>What a parent's inbox gets when its child reaches a terminal state.</summary>
    public static HistoryEvent ChildResult(DateTimeOffset at, int taskScheduledId, OrchestrationStatus status, string? result, TaskFailureDetails? failure)
    {
        var historyEvent = New(at);
        if (status == OrchestrationStatus.Completed)
        {
            historyEvent.ChildWorkflowInstanceCompleted = new ChildWorkflowInstanceCompletedEvent { TaskScheduledId = taskScheduledId, Result = result };
        }
        else
        {
            historyEvent.ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
            {
                TaskScheduledId = taskScheduledId,
                FailureDetails = failure ?? new TaskFailureDetails { ErrorType = "WorkflowTerminated", ErrorMessage = $"the child workflow ended {StatusText(status)}" },
            };
        }

        return historyEvent;
    }

    /// <summary>daprd's runtime status names (its <c>statusMap</c>), which the HTTP API shows.</summary>
    public static string StatusText(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Running => "RUNNING",
        OrchestrationStatus.Completed => "COMPLETED",
        OrchestrationStatus.ContinuedAsNew => "CONTINUED_AS_NEW",
        OrchestrationStatus.Failed => "FAILED",
        OrchestrationStatus.Canceled => "CANCELED",
        OrchestrationStatus.Terminated => "TERMINATED",
        OrchestrationStatus.Pending => "PENDING",
        OrchestrationStatus.Suspended => "SUSPENDED",
        _ => "UNKNOWN",
    };
}
