using CloudScale.Workflow.Engine;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Workflow.Testing;

/// <summary>
/// Runs workflows in the test's own process with no sidecar, no worker thread and no real time: the test schedules
/// through <see cref="Client"/>, calls <see cref="RunUntilIdleAsync"/> to run every step and activity that is ready,
/// raises events, and moves <see cref="Clock"/> (<see cref="AdvanceTimeAsync"/>) to fire timers and retries. Activities
/// can be replaced by stubs. Two hosts over one <see cref="Store"/> and clock are two replicas, or one before and one
/// after a crash.
/// </summary>
public sealed class WorkflowTestHost : IAsyncDisposable
{
    private const int MaxRounds = 10_000;

    private readonly ServiceProvider _services;
    private readonly WorkflowEngine _engine;
    private readonly WorkflowRuntimeOptions _options;

    public WorkflowTestHost(
        Action<WorkflowRuntimeOptions> configure,
        IWorkflowStore? store = null,
        WorkflowTestClock? clock = null,
        Action<IServiceCollection>? configureServices = null)
    {
        Clock = clock ?? new WorkflowTestClock();
        Store = store ?? new InMemoryWorkflowStore(Clock);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton(Store);
        configureServices?.Invoke(services);
        services.AddDaprWorkflow(configure);
        _services = services.BuildServiceProvider();
        _engine = _services.GetRequiredService<WorkflowEngine>();
        _options = _services.GetRequiredService<WorkflowRuntimeOptions>();
        Client = _services.GetRequiredService<DaprWorkflowClient>();
    }

    public DaprWorkflowClient Client { get; }

    public IWorkflowStore Store { get; }

    public WorkflowTestClock Clock { get; }

    /// <summary>Replaces (or adds) the activity <paramref name="name"/> with a function of its input.</summary>
    public void StubActivity<TInput, TOutput>(string name, Func<TInput, TOutput> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        _options.RegisterActivity<TInput, TOutput>(name, (_, input) => Task.FromResult(implementation(input)));
    }

    /// <summary>
    /// Runs every workflow step and activity that is ready now, and what they make ready, until nothing is left to do
    /// at the current time; exceptions from the engine or the store propagate.
    /// </summary>
    public async Task RunUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        for (var round = 0; round < MaxRounds; round++)
        {
            var work = await _engine.GetWorkAsync(cancellationToken);
            var progressed = false;
            foreach (var instanceId in work.DueInstances)
            {
                progressed |= await _engine.RunWorkflowStepAsync(instanceId, cancellationToken);
            }

            foreach (var activity in work.Activities)
            {
                progressed |= await _engine.RunActivityAsync(activity, cancellationToken);
            }

            if (!progressed)
            {
                return;
            }
        }

        throw new InvalidOperationException($"The workflows were still busy after {MaxRounds} rounds: does one loop without waiting on a timer or an event?");
    }

    /// <summary>Moves the clock on and runs what became ready, timers and retries included.</summary>
    public Task AdvanceTimeAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        Clock.Advance(by);
        return RunUntilIdleAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
