using CloudScale.Workflow;
using CloudScale.Workflow.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Dapr.Workflow;

public static class WorkflowServiceCollectionExtensions
{
    /// <summary>
    /// Registers the workflows and activities <paramref name="configure"/> names, a <see cref="DaprWorkflowClient"/>, and the
    /// hosted worker that runs them. Instances are kept in the Dapr state store <see cref="WorkflowRuntimeOptions.StateStoreName"/>
    /// through the sidecar's HTTP API (<c>DAPR_HTTP_ENDPOINT</c> or <c>DAPR_HTTP_PORT</c>, <c>DAPR_API_TOKEN</c>), unless
    /// <see cref="WorkflowRuntimeOptions.UseInMemoryStore"/> is called or an <see cref="IWorkflowStore"/> is registered first.
    /// </summary>
    public static IServiceCollection AddDaprWorkflow(this IServiceCollection services, Action<WorkflowRuntimeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new WorkflowRuntimeOptions();
        configure(options);
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(options);
        if (options.UsesInMemoryStore)
        {
            services.TryAddSingleton<IWorkflowStore>(provider => new InMemoryWorkflowStore(provider.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.TryAddSingleton<IWorkflowStore>(provider => DaprStateWorkflowStore.FromConfiguration(
                provider.GetService<IConfiguration>(),
                options.StateStoreName,
                options.StatePartitionCount,
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILoggerFactory>()));
        }

        services.TryAddSingleton<WorkflowEngine>();
        services.TryAddSingleton(provider => new DaprWorkflowClient(provider.GetRequiredService<WorkflowEngine>()));
        services.AddHostedService<WorkflowWorker>();
        return services;
    }
}
