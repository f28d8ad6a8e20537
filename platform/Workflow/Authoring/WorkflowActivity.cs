namespace Dapr.Workflow;

/// <summary>An activity as the engine runs it: input and output types, and the code, typed loosely.</summary>
public interface IWorkflowActivity
{
    Type InputType { get; }

    Type OutputType { get; }

    Task<object?> RunAsync(WorkflowActivityContext context, object? input);
}

/// <summary>
/// The base class of an activity: the unit of work a workflow schedules, where I/O belongs. Activities run at least once
/// (a crash before the result is recorded runs them again), so make them idempotent, for example keyed by
/// <see cref="WorkflowActivityContext.TaskExecutionKey"/>.
/// </summary>
public abstract class WorkflowActivity<TInput, TOutput> : IWorkflowActivity
{
    Type IWorkflowActivity.InputType => typeof(TInput);

    Type IWorkflowActivity.OutputType => typeof(TOutput);

    async Task<object?> IWorkflowActivity.RunAsync(WorkflowActivityContext context, object? input) => await RunAsync(context, (TInput)input!);

    public abstract Task<TOutput> RunAsync(WorkflowActivityContext context, TInput input);
}

/// <summary>The name of a scheduled task.</summary>
public readonly record struct TaskIdentifier(string Name)
{
    public override string ToString() => Name;
}

/// <summary>What an activity knows about the call that scheduled it.</summary>
public abstract class WorkflowActivityContext
{
    public abstract TaskIdentifier Identifier { get; }

    public abstract string InstanceId { get; }

    /// <summary>
    /// The same every time one scheduled call runs (a re-run after a crash included) and different for every other call,
    /// retries by a retry policy included: an idempotency key for the activity's side effects.
    /// </summary>
    public abstract string TaskExecutionKey { get; }
}
