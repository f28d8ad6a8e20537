using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudScale.Workflow.Tests.Scenarios;

/// <summary>One application replica as it runs in production: the hosted worker polling a store in real time.</summary>
internal sealed class WorkerReplica : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService _worker;

    private WorkerReplica(ServiceProvider services)
    {
        _services = services;
        _worker = services.GetRequiredService<IHostedService>();
        Client = services.GetRequiredService<DaprWorkflowClient>();
    }

    public DaprWorkflowClient Client { get; }

    public static async Task<WorkerReplica> StartAsync(IWorkflowStore store, Action<WorkflowRuntimeOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton(store);
        services.AddDaprWorkflow(configure);
        var replica = new WorkerReplica(services.BuildServiceProvider());
        await replica._worker.StartAsync(TestContext.Current.CancellationToken);
        return replica;
    }

    public async ValueTask DisposeAsync()
    {
        await _worker.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }
}
