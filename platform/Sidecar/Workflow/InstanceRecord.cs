using System.Text.Json.Serialization;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// Everything the backend knows about one workflow instance, stored as ONE document under one key, so that every step
/// (start, a worker's completion, a raised event, a claim of work) is one etag-guarded write of one key: as safe on
/// state.redis, which has no multi-key atomic etag transaction, as on Postgres. History events and work-item payloads
/// are the durable task protobuf messages, kept as their bytes.
/// </summary>
internal sealed class InstanceRecord
{
    public required string InstanceId { get; init; }

    public required string Name { get; set; }

    public required string ExecutionId { get; set; }

    public OrchestrationStatus Status { get; set; }

    public long CreatedAt { get; set; }

    public long LastUpdatedAt { get; set; }

    public long? CompletedAt { get; set; }

    public long? ScheduledStartAt { get; set; }

    public string? Input { get; set; }

    public string? Output { get; set; }

    public string? CustomStatus { get; set; }

    /// <summary>A <see cref="TaskFailureDetails"/>, for a FAILED instance.</summary>
    public byte[]? FailureDetails { get; set; }

    /// <summary>A <see cref="ParentInstanceInfo"/>, for a child workflow.</summary>
    public byte[]? ParentInstance { get; set; }

    /// <summary>The <see cref="TraceContext"/> the instance was started under; activities and children continue it.</summary>
    public byte[]? TraceContext { get; set; }

    /// <summary>The history the worker has seen (its past events), in order.</summary>
    public List<byte[]> History { get; set; } = [];

    /// <summary>Events not yet handed to a worker: raised events, activity results, timers (visible from their fire time).</summary>
    public List<InboxEntry> Inbox { get; set; } = [];

    /// <summary>The new events of the orchestration work item in flight (the worker has them, the history not yet).</summary>
    public List<byte[]> Dispatched { get; set; } = [];

    /// <summary>The lease on the orchestration work item in flight; its token is the work item's completion token.</summary>
    public Lease? Lease { get; set; }

    /// <summary>Scheduled activities not yet completed, each with the lease of the worker that has it, if any.</summary>
    public List<ActivityTask> Activities { get; set; } = [];

    /// <summary>Messages to other instances written with the step that produced them and delivered after it.</summary>
    public List<OutboxMessage> Outbox { get; set; } = [];

    /// <summary>Ids of the last messages delivered here, so that a message delivered twice is applied once.</summary>
    public List<string> ReceivedMessages { get; set; } = [];

    [JsonIgnore]
    public bool IsTerminal => Status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    /// <summary>Inbox events whose time has come.</summary>
    public bool HasReadyEvents(long now) => Inbox.Any(entry => entry.VisibleAt <= now);

    public static byte[] Bytes(IMessage message) => message.ToByteArray();
}

internal sealed record InboxEntry(byte[] Event, long VisibleAt);

internal sealed record Lease(string Token, long ExpiresAt)
{
    public bool IsLive(long now) => ExpiresAt > now;
}

/// <summary>An activity work item: the <see cref="ActivityRequest"/> the worker gets, and the lease of the worker that has it.</summary>
internal sealed record ActivityTask(int TaskId, byte[] Request, Lease? Lease);

internal enum OutboxKind
{
    /// <summary>Create the target (a child workflow) from the ExecutionStarted event.</summary>
    Start,

    /// <summary>Add the event to the target's inbox.</summary>
    Event,

    /// <summary>Terminate the target (recursively when the event says so).</summary>
    Terminate,
}

internal sealed record OutboxMessage(string Id, string Target, OutboxKind Kind, byte[] Event);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, UseStringEnumConverter = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstanceRecord))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Dictionary<string, long>))]
internal sealed partial class WorkflowJson : JsonSerializerContext;
