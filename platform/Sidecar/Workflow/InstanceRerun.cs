using Dapr.DurableTask.Protobuf;
using Google.Protobuf;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// daprd's <c>RerunWorkflowFromEvent</c> as a pure function (its fork of the workflow history): a new instance whose
/// history is the ended source's up to the chosen event (an activity, a timer or a child workflow), which is done again,
/// with its input replaced when asked; the activities, timers and children still unfinished at that point are done again
/// too. The workflow then replays that history and goes on from there.
/// </summary>
internal static class InstanceRerun
{
    public static InstanceRecord Fork(InstanceRecord source, string instanceId, RerunWorkflowFromEventRequest request, long now)
    {
        if (!source.IsTerminal)
        {
            throw InvalidArgument($"'{source.InstanceId}' is not in a terminal state");
        }

        if (source.ParentInstance is not null)
        {
            throw InvalidArgument($"'{source.InstanceId}': cannot rerun from child-workflows");
        }

        var (history, unfinished, target) = Split(source, request.EventID);
        Retarget(target, source.InstanceId, instanceId, request);
        var at = InstanceSteps.FromMilliseconds(now);
        var record = new InstanceRecord
        {
            InstanceId = instanceId,
            Name = source.Name,
            ExecutionId = source.ExecutionId,
            Status = OrchestrationStatus.Running,
            CreatedAt = now,
            LastUpdatedAt = now,
            Input = source.Input,
            TraceContext = source.TraceContext,
            History = [.. history.Select(historyEvent => historyEvent.ToByteArray())],
        };
        foreach (var redo in unfinished.Append(target))
        {
            // As daprd, an unfinished child gets an id of the new instance's (its own would be taken by the source's child).
            if (!ReferenceEquals(redo, target) && redo.ChildWorkflowInstanceCreated is { } child)
            {
                child.InstanceId = ChildId(instanceId, redo.EventId);
            }

            redo.Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at);
            record.History.Add(redo.ToByteArray());
            InstanceSteps.AddWork(record, redo, at);
        }

        return record;
    }

    /// <summary>
    /// The source's history before the event with <paramref name="eventId"/>, less the actions not finished before it
    /// (an action's event is kept just before its result), those unfinished actions, and the event itself.
    /// </summary>
    private static (List<HistoryEvent> History, List<HistoryEvent> Unfinished, HistoryEvent Target) Split(InstanceRecord source, uint eventId)
    {
        var history = new List<HistoryEvent>();
        var unfinished = new List<HistoryEvent>();
        foreach (var historyEvent in source.History.Select(HistoryEvent.Parser.ParseFrom))
        {
            if (historyEvent.EventId >= 0 && (uint)historyEvent.EventId == eventId)
            {
                return (history, unfinished, historyEvent);
            }

            switch (historyEvent.EventTypeCase)
            {
                case HistoryEvent.EventTypeOneofCase.TaskScheduled or HistoryEvent.EventTypeOneofCase.TimerCreated or HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated:
                    unfinished.Add(historyEvent);
                    break;
                default:
                    if (ResultOf(historyEvent) is { } actionId && unfinished.Find(action => action.EventId == actionId) is { } action)
                    {
                        unfinished.Remove(action);
                        history.Add(action);
                    }

                    history.Add(historyEvent);
                    break;
            }
        }

        throw new WorkflowException(WorkflowErrorKind.NotFound, $"does not have history event with ID '{eventId}'");
    }

    /// <summary>The id of the action an event is the result of, if it is one.</summary>
    private static int? ResultOf(HistoryEvent historyEvent) => historyEvent.EventTypeCase switch
    {
        HistoryEvent.EventTypeOneofCase.TaskCompleted => historyEvent.TaskCompleted.TaskScheduledId,
        HistoryEvent.EventTypeOneofCase.TaskFailed => historyEvent.TaskFailed.TaskScheduledId,
        HistoryEvent.EventTypeOneofCase.TimerFired => historyEvent.TimerFired.TimerId,
        HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCompleted => historyEvent.ChildWorkflowInstanceCompleted.TaskScheduledId,
        HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceFailed => historyEvent.ChildWorkflowInstanceFailed.TaskScheduledId,
        _ => null,
    };

    /// <summary>Marks the event as rerun from the source and applies the request's new input or child instance id, where the event has one.</summary>
    private static void Retarget(HistoryEvent target, string sourceId, string instanceId, RerunWorkflowFromEventRequest request)
    {
        var rerunFrom = new RerunParentInstanceInfo { InstanceID = sourceId };
        switch (target.EventTypeCase)
        {
            case HistoryEvent.EventTypeOneofCase.TaskScheduled:
                RefuseNewChildId(request, "activity", target.EventId);
                target.TaskScheduled.RerunParentInstanceInfo = rerunFrom;
                if (request.OverwriteInput)
                {
                    target.TaskScheduled.Input = request.Input;
                }

                break;
            case HistoryEvent.EventTypeOneofCase.TimerCreated:
                if (request.OverwriteInput)
                {
                    throw InvalidArgument($"cannot write input to timer event '{target.EventId}'");
                }

                RefuseNewChildId(request, "timer", target.EventId);
                target.TimerCreated.RerunParentInstanceInfo = rerunFrom;
                break;
            case HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated:
                var child = target.ChildWorkflowInstanceCreated;
                child.RerunParentInstanceInfo = rerunFrom;
                child.InstanceId = request.HasNewChildWorkflowInstanceID ? request.NewChildWorkflowInstanceID : ChildId(instanceId, target.EventId);
                if (request.OverwriteInput)
                {
                    child.Input = request.Input;
                }

                break;
            default:
                // daprd names the event by its Go type, which is the oneof case's.
                throw new WorkflowException(
                    WorkflowErrorKind.NotFound,
                    $"target event '*protos.HistoryEvent_{target.EventTypeCase}' with ID '{target.EventId}' is not an event that can be rerun");
        }
    }

    private static void RefuseNewChildId(RerunWorkflowFromEventRequest request, string kind, int eventId)
    {
        if (request.HasNewChildWorkflowInstanceID)
        {
            throw InvalidArgument($"cannot set new child workflow instance ID on {kind} event '{eventId}'");
        }
    }

    /// <summary>daprd's id for a rerun instance's child: the instance id, a colon, and the event id in four hex digits.</summary>
    private static string ChildId(string instanceId, int eventId) => $"{instanceId}:{eventId:x4}";

    private static WorkflowException InvalidArgument(string message) => new(WorkflowErrorKind.InvalidArgument, message);
}
