using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Dapr.Workflow;

/// <summary>
/// What <c>AddDaprWorkflow</c> registers: the workflows and activities of this application (by class name, or by an
/// explicit name for delegates) and, beyond Dapr.Workflow's options, where CloudScale's engine keeps its state.
/// </summary>
public sealed class WorkflowRuntimeOptions
{
    internal ConcurrentDictionary<string, Func<IServiceProvider, IWorkflow>> Workflows { get; } = new(StringComparer.Ordinal);

    internal ConcurrentDictionary<string, Func<IServiceProvider, IWorkflowActivity>> Activities { get; } = new(StringComparer.Ordinal);

    internal bool UsesInMemoryStore { get; private set; }

    /// <summary>Steps this replica runs at once, over all instances.</summary>
    public int MaxConcurrentWorkflows { get; set; } = 100;

    /// <summary>Activities this replica runs at once.</summary>
    public int MaxConcurrentActivities { get; set; } = 100;

    /// <summary>The transactional Dapr state store the engine keeps instances in (CloudScale).</summary>
    public string StateStoreName { get; set; } = "statestore";

    /// <summary>How many index keys ready work is spread over in the state store: more means less contention between instances (CloudScale).</summary>
    public int StatePartitionCount { get; set; } = 16;

    /// <summary>The longest a replica waits before it looks for work other replicas made ready (CloudScale).</summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a step may hold an instance before another replica may take it over (CloudScale).</summary>
    public TimeSpan WorkflowLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an activity may run before another replica may run it again (CloudScale); an activity that runs longer
    /// runs twice and only the first result to arrive is kept.
    /// </summary>
    public TimeSpan ActivityLeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Keeps instances in this process's memory instead of the Dapr state store: for tests and demos only (CloudScale).</summary>
    public void UseInMemoryStore() => UsesInMemoryStore = true;

    public void RegisterWorkflow<TWorkflow>()
        where TWorkflow : class, IWorkflow => Workflows[typeof(TWorkflow).Name] = CreatedFromServices<TWorkflow>();

    public void RegisterWorkflow<TInput, TOutput>(string name, Func<WorkflowContext, TInput, Task<TOutput>> implementation) =>
        Workflows[RequireName(name)] = Always<IWorkflow>(new DelegateWorkflow<TInput, TOutput>(implementation));

    /// <summary>Activities are created in a new dependency-injection scope for every run, so they may take scoped services.</summary>
    public void RegisterActivity<TActivity>()
        where TActivity : class, IWorkflowActivity => Activities[typeof(TActivity).Name] = CreatedFromServices<TActivity>();

    public void RegisterActivity<TInput, TOutput>(string name, Func<WorkflowActivityContext, TInput, Task<TOutput>> implementation) =>
        Activities[RequireName(name)] = Always<IWorkflowActivity>(new DelegateActivity<TInput, TOutput>(implementation));

    private static Func<IServiceProvider, T> CreatedFromServices<T>()
        where T : class
    {
        var create = ActivatorUtilities.CreateFactory<T>([]);
        return services => create(services, null);
    }

    private static Func<IServiceProvider, T> Always<T>(T instance) => _ => instance;

    private static string RequireName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return name;
    }

    private sealed class DelegateWorkflow<TInput, TOutput>(Func<WorkflowContext, TInput, Task<TOutput>> implementation) : Workflow<TInput, TOutput>
    {
        private readonly Func<WorkflowContext, TInput, Task<TOutput>> _implementation = implementation ?? throw new ArgumentNullException(nameof(implementation));

        public override Task<TOutput> RunAsync(WorkflowContext context, TInput input) => _implementation(context, input);
    }

    private sealed class DelegateActivity<TInput, TOutput>(Func<WorkflowActivityContext, TInput, Task<TOutput>> implementation) : WorkflowActivity<TInput, TOutput>
    {
        private readonly Func<WorkflowActivityContext, TInput, Task<TOutput>> _implementation = implementation ?? throw new ArgumentNullException(nameof(implementation));

        public override Task<TOutput> RunAsync(WorkflowActivityContext context, TInput input) => _implementation(context, input);
    }
}
