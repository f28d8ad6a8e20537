namespace Dapr.Workflow;

/// <summary>A workflow as the engine runs it: input and output types, and the code, typed loosely.</summary>
public interface IWorkflow
{
    Type InputType { get; }

    Type OutputType { get; }

    Task<object?> RunAsync(WorkflowContext context, object? input);
}

/// <summary>
/// The base class of a workflow: deterministic orchestration code that schedules activities, timers, child workflows and
/// waits for events through its <see cref="WorkflowContext"/>. It is replayed from history after every step, so it must
/// make the same calls in the same order every time (see the determinism rules in the README).
/// </summary>
public abstract class Workflow<TInput, TOutput> : IWorkflow
{
    Type IWorkflow.InputType => typeof(TInput);

    Type IWorkflow.OutputType => typeof(TOutput);

    async Task<object?> IWorkflow.RunAsync(WorkflowContext context, object? input) => await RunAsync(context, (TInput)input!);

    public abstract Task<TOutput> RunAsync(WorkflowContext context, TInput input);
}
