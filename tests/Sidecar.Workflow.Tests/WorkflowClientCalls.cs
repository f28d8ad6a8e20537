using Dapr.Workflow;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>What the tests ask of the SDK's client again and again: a start under an id of its own, and the wait for the end.</summary>
internal static class WorkflowClientCalls
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static Task<string> StartNewAsync(this DaprWorkflowClient client, string name, object input) =>
        client.ScheduleNewWorkflowAsync(name, $"{name}-{Guid.NewGuid():N}", input, null, TestContext.Current.CancellationToken);

    public static async Task<WorkflowState> CompletionAsync(this DaprWorkflowClient client, string id)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Deadline);
        return await client.WaitForWorkflowCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
    }
}
