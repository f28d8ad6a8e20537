using System.Text.Json;
using CloudScale.Workflow;

namespace Dapr.Workflow;

/// <summary>A snapshot of an instance as <see cref="DaprWorkflowClient.GetWorkflowStateAsync"/> read it.</summary>
public sealed class WorkflowState
{
    private readonly WorkflowMetadata? _metadata;
    private readonly JsonSerializerOptions _json;

    internal WorkflowState(WorkflowMetadata? metadata, bool includeInputsAndOutputs, JsonSerializerOptions json)
    {
        _metadata = metadata is null || includeInputsAndOutputs
            ? metadata
            : metadata with { SerializedInput = null, SerializedOutput = null, SerializedCustomStatus = null };
        _json = json;
    }

    public bool Exists => _metadata is not null;

    public bool IsWorkflowRunning => RuntimeStatus == WorkflowRuntimeStatus.Running;

    /// <summary>Completed, failed or terminated.</summary>
    public bool IsWorkflowCompleted => _metadata?.IsFinished == true;

    public WorkflowRuntimeStatus RuntimeStatus => _metadata?.RuntimeStatus ?? WorkflowRuntimeStatus.Unknown;

    public string? Name => _metadata?.Name;

    public DateTimeOffset CreatedAt => _metadata?.CreatedAt ?? default;

    public DateTimeOffset LastUpdatedAt => _metadata?.LastUpdatedAt ?? default;

    public WorkflowTaskFailureDetails? FailureDetails => _metadata?.FailureDetails;

    public T? ReadInputAs<T>() => Read<T>(_metadata?.SerializedInput);

    public T? ReadOutputAs<T>() => Read<T>(_metadata?.SerializedOutput);

    public T? ReadCustomStatusAs<T>() => Read<T>(_metadata?.SerializedCustomStatus);

    private T? Read<T>(string? json) => string.IsNullOrEmpty(json) ? default : JsonSerializer.Deserialize<T>(json, _json);
}
