using CloudScale.Workflow;
using CloudScale.Workflow.Engine;

namespace Dapr.Workflow;

/// <summary>
/// Starts, queries and controls workflow instances, with Dapr.Workflow's method names and semantics. Payloads are JSON
/// (System.Text.Json web defaults). Operations on an instance that does not exist throw <see cref="InvalidOperationException"/>
/// with daprd's message; on a finished instance they change nothing.
/// </summary>
public class DaprWorkflowClient
{
    private readonly WorkflowEngine _engine;

    internal DaprWorkflowClient(WorkflowEngine engine)
    {
        _engine = engine;
    }

    /// <summary>Schedules a new instance (a new GUID unless <paramref name="instanceId"/> is given) and returns its ID.</summary>
    /// <param name="startTime">When the instance starts; until then it is <see cref="WorkflowRuntimeStatus.Pending"/>.</param>
    public virtual Task<string> ScheduleNewWorkflowAsync(
        string name, string? instanceId = null, object? input = null, DateTimeOffset? startTime = null, CancellationToken cancellation = default) =>
        _engine.ScheduleAsync(name, instanceId, WorkflowJson.Serialize(input), startTime, cancellation);

    /// <summary>The instance's state; <see cref="WorkflowState.Exists"/> is false if there is no such instance.</summary>
    public virtual async Task<WorkflowState> GetWorkflowStateAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellation = default) =>
        new(await _engine.GetMetadataAsync(instanceId, cancellation), getInputsAndOutputs, WorkflowJson.Payloads);

    /// <summary>Waits until the instance has started (is no longer pending).</summary>
    public virtual async Task<WorkflowState> WaitForWorkflowStartAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellation = default) =>
        new(await _engine.WaitAsync(instanceId, metadata => metadata.RuntimeStatus != WorkflowRuntimeStatus.Pending, cancellation), getInputsAndOutputs, WorkflowJson.Payloads);

    /// <summary>Waits until the instance has completed, failed or been terminated.</summary>
    public virtual async Task<WorkflowState> WaitForWorkflowCompletionAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellation = default) =>
        new(await _engine.WaitAsync(instanceId, metadata => metadata.IsFinished, cancellation), getInputsAndOutputs, WorkflowJson.Payloads);

    public virtual Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        return SendAsync(instanceId, new EventRaised(_engine.Now, eventName, WorkflowJson.Serialize(eventPayload)), cancellation);
    }

    /// <summary>Terminates the instance and the children it is waiting for; <paramref name="output"/> becomes its output.</summary>
    public virtual Task TerminateWorkflowAsync(string instanceId, object? output = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionTerminated(_engine.Now, WorkflowJson.Serialize(output)), cancellation);

    /// <summary>Stops the instance from advancing; events and results that arrive meanwhile wait in its inbox.</summary>
    public virtual Task SuspendWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionSuspended(_engine.Now, reason), cancellation);

    public virtual Task ResumeWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionResumed(_engine.Now, reason), cancellation);

    /// <summary>Deletes a finished instance, and the children it started, from the store; false if it does not exist or has not finished.</summary>
    public virtual async Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellation = default) =>
        await _engine.PurgeAsync(instanceId, cancellation) == PurgeOutcome.Purged;

    private async Task SendAsync(string instanceId, HistoryEvent message, CancellationToken cancellation)
    {
        if (!await _engine.SendAsync(instanceId, message, cancellation))
        {
            throw new InvalidOperationException(NotFoundMessage(instanceId));
        }
    }

    internal static string NotFoundMessage(string instanceId) => $"unable to find workflow with the provided instance ID: {instanceId}";
}
