using CloudScale.Testing;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>
/// An app on the real Dapr.Workflow SDK: <c>AddDaprWorkflow</c> with <see cref="TestWorkflows"/>, its worker connected to
/// a sidecar's gRPC port through <c>DAPR_GRPC_ENDPOINT</c>, and the <see cref="DaprWorkflowClient"/> it registers.
/// </summary>
internal sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private WorkerHost(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<DaprWorkflowClient>();
    }

    public DaprWorkflowClient Client { get; }

    public static Task<WorkerHost> StartAsync(DaprSidecar sidecar, string worker, string? apiToken = null) =>
        StartAsync(sidecar.GrpcEndpoint, worker, apiToken);

    /// <summary>An app whose sidecar's gRPC endpoint is <paramref name="grpcEndpoint"/>, whether or not anything listens there yet.</summary>
    public static async Task<WorkerHost> StartAsync(Uri grpcEndpoint, string worker, string? apiToken = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DAPR_GRPC_ENDPOINT"] = grpcEndpoint.ToString().TrimEnd('/'),
            ["DAPR_API_TOKEN"] = apiToken,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDaprWorkflow(options => TestWorkflows.Register(options, worker));
        var host = builder.Build();
        await host.StartAsync();
        return new WorkerHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
    }
}
